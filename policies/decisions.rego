# Package huey.resource.decisions is the route-level ACL of the support routes of issue 16:
# GET /v1/decisions/{decision_id} (a recorded refusal: account, action, resource and the ACL entry
# that decided) and POST /v1/explain (what the policy and row security would answer for an account).
# Both reveal who asked for what, so only role:admin (Wriveted admins, backend service accounts).
package huey.resource.decisions

# The first entry whose permission and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin read, explain.
	input.action in {"read", "explain"}
	input.principals["role:admin"]
} else := "deny"
