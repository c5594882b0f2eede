"""The organization managers' pages under /manage/ (server-rendered, the learner pages' look).

Entry points only: they read the request, ask ``b2b.services.invitations.managers`` whether the
signed-in
user manages what the URL names (anything else is a 404, a user who manages nothing gets a
403), and call the invitation services and the selectors.
"""
