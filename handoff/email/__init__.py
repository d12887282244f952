"""Email: briefs and escalations rendered from Jinja2 templates, sent through SES."""
