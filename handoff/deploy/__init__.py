"""What is deployed, defined once: the functions and routes, each function's settings, the
credentials, the gateway's own rules, the workflow definition and its step inputs. CDK, the
local stack and the tests all read these."""
