"""Response examples of the manager API's schema (docs only)."""

MANAGED_ORGANIZATION = {"id": 4, "name": "UniversityX", "org_key": "UNIVERSITYX", "contracts": 2}
MANAGED_CONTRACT = {
    "id": 7,
    "organization_id": 4,
    "name": "UniversityX Contract",
    "active": True,
    "start": "2026-01-01",
    "end": "2026-12-31",
    "days_left": 35,
    "seats": {"used": 120, "cap": 200, "open_invitations": 30, "left": 50},
    "codes": {"usable": 80, "redeemed": 120},
}
LEARNER = {
    "user_id": 40,
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "joined_on": "2026-11-27T10:05:00Z",
    "source": "code",
    "runs": ["course-v1:UAI_UNIVERSITYX+AI101+2026_C7"],
}
INVITATION = {
    "id": 311,
    "contract_id": 7,
    "email": "grace@example.com",
    "name": "Grace Hopper",
    "state": "open",
    "code": "3f2c9a4e-8d1b-4c55-9e0f-2a7b6c1d0e93",
    "invited_by": "lead@universityx.example",
    "invited_on": "2026-11-27T10:00:00Z",
    "reminders_sent": 0,
    "last_reminded_on": None,
    "revoked_on": None,
    "redeemed_by": None,
    "redeemed_on": None,
    "last_email": {"state": "sent", "error": ""},
}
# A job's rows (the results endpoint lists them; a small job's body carries them too).
JOB_RESULTS = [
    {
        "line": 2,
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "outcome": "invited",
        "result": "invited",
        "invitation_id": 311,
    },
    {
        "line": 3,
        "email": "not-an-address",
        "name": "",
        "outcome": "invalid-email",
        "result": "invalid e-mail",
        "invitation_id": None,
    },
    {
        "line": 4,
        "email": "alan@example.com",
        "name": "",
        "outcome": "invited",
        "result": "invited",
        "invitation_id": 312,
    },
]
JOB = {
    "id": 12,
    "contract_id": 7,
    "state": "done",
    "rows": 3,
    "done": 2,
    "total": 2,
    "percent": 100,
    "finished": True,
    "created_on": "2026-11-27T10:00:00Z",
    "finished_on": "2026-11-27T10:00:01Z",
    "summary": [
        {"outcome": "invited", "label": "invited", "count": 2},
        {"outcome": "invalid-email", "label": "invalid e-mail", "count": 1},
    ],
    "results_url": "https://contracts.example.com/api/v1/manager/contracts/7/jobs/12/results/",
    "results": JOB_RESULTS,
}
PROGRESS_SUMMARY = {
    "contract_id": 7,
    "seats": 200,
    "per_learner": True,
    "stages": [
        {
            "key": "invited",
            "label": "Invited",
            "count": 150,
            "share": 75,
            "text": "Invited: 150 (75%)",
        },
        {
            "key": "joined",
            "label": "Joined",
            "count": 120,
            "share": 60,
            "text": "Joined: 120 (60%)",
        },
        {
            "key": "enrolled",
            "label": "Enrolled",
            "count": 110,
            "share": 55,
            "text": "Enrolled: 110 (55%)",
        },
        {
            "key": "started",
            "label": "Started",
            "count": 80,
            "share": 40,
            "text": "Started: 80 (40%)",
        },
        {"key": "passed", "label": "Passed", "count": 30, "share": 15, "text": "Passed: 30 (15%)"},
        {
            "key": "certified",
            "label": "Certified",
            "count": 25,
            "share": 12,
            "text": "Certified: 25 (12%)",
        },
    ],
    "completion_rate": 28,
    "needs_attention": 14,
    "unmapped": None,
    "as_of": "2026-11-27T06:00:00Z",
    "text": "Invited: 150 (75%); Joined: 120 (60%); Enrolled: 110 (55%); Started: 80 (40%); "
    "Passed: 30 (15%); Certified: 25 (12%).",
}
PROGRESS_ROW = {
    "learner": {
        "user_id": 40,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "edx_username": "ada",
    },
    "run": "course-v1:UAI_UNIVERSITYX+AI101+2026_C7",
    "mode": "verified",
    "active": True,
    "enrolled_on": "2026-10-01T09:00:00Z",
    "grade_percent": 0.82,
    "letter_grade": "Pass",
    "passed": True,
    "first_passed_on": "2026-11-20T14:30:00Z",
    "certificate": {
        "status": "downloadable",
        "url": "https://courses.example.com/certificates/3f2c9a4e8d1b4c55",
        "created_on": "2026-11-20T14:35:00Z",
    },
    "needs_attention": False,
    "changed_on": "2026-11-20T15:00:00Z",
    "as_of": "2026-11-27T06:00:00Z",
}
PROGRESS_FEED = {
    "as_of": "2026-11-27T09:59:00Z",
    "next": "https://contracts.example.com/api/v1/manager/organizations/4/progress/"
    "?updated_since=2026-11-20T00%3A00%3A00Z&cursor=WyIyMDI2LTExLTI3VDA5OjU5OjAwKzAwOjAwIl0%3D",
    "previous": None,
    "results": [{**PROGRESS_ROW, "contract_id": 7}],
}
