"""b2b's services: the rules of organizations, contracts, courseware, memberships and codes."""
