"""Response examples for the schema (docs only)."""

ORGANIZATION = {
    "id": 4,
    "name": "UniversityX",
    "org_key": "UNIVERSITYX",
    "slug": "universityx",
    "sso_organization_id": None,
    "contracts": 1,
}
CODES = {"total": 1200, "usable": 1195, "redeemed": 5, "deactivated": 0}
CONTRACT = {
    "id": 7,
    "name": "UniversityX Contract",
    "slug": "universityx-contract",
    "organization_id": 4,
    "organization": "UniversityX",
    "integration_type": "non-sso",
    "start": None,
    "end": "2026-12-31",
    "active": True,
    "max_learners": 200,
    "price": None,
    "learners": 5,
    "codes": CODES,
    "codes_pending": False,
    "codes_pending_since": None,
    "description": "Capped non-SSO contract",
    "code_status": {
        "up_to_date": True,
        "pending_since": None,
        "reconciled_on": "2026-11-27T10:00:00Z",
        "last_error": "",
    },
}
RUN = {
    "courseware_id": "course-v1:UAI_UNIVERSITYX+AI101+2026_C7",
    "course": "course-v1:UAI_SOURCE+AI101",
    "title": "Introduction to AI",
    "start": "2026-11-27T00:00:00Z",
    "end": None,
    "product_id": 31,
    "price": "0.00",
    "usable_codes": 200,
    "edx_copy": "created",
    "edx_error": None,
}
ATTACHED = {
    "type": "course",
    "readable_id": "course-v1:UAI_SOURCE+AI101",
    "title": "Introduction to AI",
    "has_run": True,
}
COURSEWARE_RESULT = {
    "dry_run": False,
    "attached": ["program-v1:UAI_SOURCE+AI_FOUNDATIONS"],
    "created_runs": [RUN["courseware_id"]],
    "assigned_runs": [],
    "detached_runs": [],
    "skipped": [],
    "warnings": [],
    "products_created": 1,
    "products_deactivated": 0,
    "codes": None,
}
CODE = {
    "id": 1501,
    "code": "3f2c9a4e-8d1b-4c55-9e0f-2a7b6c1d0e93",
    "product_id": 31,
    "active": True,
    "redemption_type": "one-time",
    "times_redeemed": 0,
    "redeemed_by": None,
}
MEMBERSHIP = {
    "id": 12,
    "user": {"id": 40, "email": "ada@example.com", "name": "Ada Lovelace"},
    "joined_on": "2026-11-27T10:05:00Z",
    "source": "staff",
    "created_by": "admin@example.com",
}
LEARNER_CONTRACT = {
    "id": 7,
    "name": "UniversityX Contract",
    "organization_id": 4,
    "organization": "UniversityX",
    "active": True,
    "start": None,
    "end": "2026-12-31",
    "free": True,
    "joined_on": "2026-11-27T10:05:00Z",
    "runs": [
        {
            "courseware_id": RUN["courseware_id"],
            "title": "Introduction to AI",
            "start": "2026-11-27T00:00:00Z",
            "end": None,
            "enrolled": False,
            "product_url": None,
        }
    ],
}
