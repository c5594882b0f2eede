"""What every endpoint of the REST API shares: the error shape, pagination, authentication and
the schema. The endpoints themselves live in each app's ``api`` package."""
