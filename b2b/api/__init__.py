"""The REST API of organizations, contracts and their courseware, codes, learners and runs
(mounted under /api/v1/b2b/ and /api/v1/me/ by config/urls.py)."""
