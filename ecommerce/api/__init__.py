"""The learner's REST endpoints for codes and contract runs (mounted under /api/v1/b2b/)."""
