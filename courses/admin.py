from django.contrib import admin

from courses.models import Course, CourseRun, CourseRunEnrollment, Program, ProgramRequirement


class CourseRunInline(admin.TabularInline):
    model = CourseRun
    fields = ["courseware_id", "title", "run_tag", "start_date", "end_date", "live"]
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["readable_id", "title", "live"]
    list_filter = ["live"]
    search_fields = ["readable_id", "title"]
    inlines = [CourseRunInline]


@admin.register(CourseRun)
class CourseRunAdmin(admin.ModelAdmin):
    list_display = [
        "courseware_id",
        "title",
        "run_tag",
        "start_date",
        "end_date",
        "live",
        "b2b_contract",
        "edx_copy_state",
    ]
    list_filter = ["live", "is_self_paced", "edx_copy_state"]
    search_fields = ["courseware_id", "title", "course__readable_id"]
    list_select_related = ["course", "b2b_contract"]
    raw_id_fields = ["course", "b2b_contract"]
    readonly_fields = ["edx_copy_error", "edx_copy_updated_on", "edx_copy_attempts"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["readable_id", "title", "live"]
    list_filter = ["live"]
    search_fields = ["readable_id", "title"]


@admin.register(ProgramRequirement)
class ProgramRequirementAdmin(admin.ModelAdmin):
    list_display = ["program", "path", "node_type", "operator", "operator_value", "course"]
    list_filter = ["node_type"]
    search_fields = ["program__readable_id", "course__readable_id"]
    list_select_related = ["program", "course", "required_program"]
    readonly_fields = ["path", "depth", "numchild"]


@admin.register(CourseRunEnrollment)
class CourseRunEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "run", "mode", "active", "edx_sync_state", "created_on"]
    list_filter = ["mode", "active", "edx_sync_state"]
    search_fields = ["user__email", "run__courseware_id"]
    list_select_related = ["user", "run"]
    raw_id_fields = ["user", "run"]
