# Tests of booklists.rego (the route-level booklists ACL and F3's publish) through
# data.huey.authz.allow.
package huey.resource.book_lists_test

admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

reader := ["system:authenticated", "user:r1", "role:reader"]

lms := ["system:authenticated", "role:lms", "school:17"]

anonymous := []

allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "book_lists", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

test_admin_publish_allowed if allowed(admin, "publish")

test_backend_delete_allowed if allowed(backend, "delete")

test_reader_create_allowed if allowed(reader, "create")

test_lms_update_allowed if allowed(lms, "update")

test_schooladmin_read_allowed if allowed(schooladmin, "read")

# F3: only admins create (or patch into) Huey, Regional and Other lists.
test_f3_schooladmin_publish_denied if not allowed(schooladmin, "publish")

test_f3_reader_publish_denied if not allowed(reader, "publish")

test_reader_delete_denied if not allowed(reader, "delete")

test_anonymous_create_denied if not allowed(anonymous, "create")
