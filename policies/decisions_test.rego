# Tests of decisions.rego through data.huey.authz.allow, the path production queries.
package huey.resource.decisions_test

allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "decisions", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

test_admin_read_allowed if allowed(["system:authenticated", "user:a", "role:admin"], "read")

test_admin_explain_allowed if allowed(["system:authenticated", "user:a", "role:admin"], "explain")

test_backend_explain_allowed if allowed(["system:authenticated", "role:admin"], "explain")

test_admin_delete_denied if not allowed(["system:authenticated", "user:a", "role:admin"], "delete")

test_schooladmin_read_denied if not allowed(["system:authenticated", "user:s", "role:educator", "educator:1", "schooladmin:1"], "read")

test_schooladmin_explain_denied if not allowed(["system:authenticated", "user:s", "role:educator", "educator:1", "schooladmin:1"], "explain")

test_lms_read_denied if not allowed(["system:authenticated", "role:lms", "school:1"], "read")

test_anonymous_explain_denied if not allowed([], "explain")
