"""The users routes: sign-up and tokens, one's own profile, admin user management."""
