# Tests of users.rego through data.huey.authz.allow, the path production queries.
package huey.resource.users_test

allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "users", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

test_admin_read_allowed if allowed(["system:authenticated", "user:a", "role:admin"], "read")

test_backend_create_allowed if allowed(["system:authenticated", "role:admin"], "create")

test_admin_delete_allowed if allowed(["system:authenticated", "user:a", "role:admin"], "delete")

test_admin_update_denied if not allowed(["system:authenticated", "user:a", "role:admin"], "update")

test_schooladmin_read_denied if not allowed(["system:authenticated", "user:s", "role:educator", "educator:1", "schooladmin:1"], "read")

test_lms_create_denied if not allowed(["system:authenticated", "role:lms", "school:1"], "create")

test_reader_delete_denied if not allowed(["system:authenticated", "user:r", "role:reader"], "delete")

test_anonymous_read_denied if not allowed([], "read")
