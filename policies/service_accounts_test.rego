# Tests of service_accounts.rego (the route-level service-account ACL) through data.huey.authz.allow.
package huey.resource.service_accounts_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:r1"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# allowed holds when the principals ps may perform action on the service-account routes.
allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "service_accounts", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin read, create, update (ADMIN).
test_admin_read_allowed if allowed(admin, "read")

test_admin_create_allowed if allowed(admin, "create")

test_admin_update_allowed if allowed(admin, "update")

test_backend_read_allowed if allowed(backend, "read")

test_backend_create_allowed if allowed(backend, "create")

test_backend_update_allowed if allowed(backend, "update")

test_schooladmin_read_denied if not allowed(schooladmin, "read")

test_schooladmin_create_denied if not allowed(schooladmin, "create")

test_educator_update_denied if not allowed(educator, "update")

test_student_read_denied if not allowed(student, "read")

test_reader_create_denied if not allowed(reader, "create")

test_parent_read_denied if not allowed(parent, "read")

test_supporter_update_denied if not allowed(supporter, "update")

test_lms_read_denied if not allowed(lms, "read")

test_lms_create_denied if not allowed(lms, "create")

test_school_sa_update_denied if not allowed(school_sa, "update")

test_kiosk_read_denied if not allowed(kiosk, "read")

test_anonymous_read_denied if not allowed(anonymous, "read")

test_anonymous_create_denied if not allowed(anonymous, "create")

# Entry 2: Allow role:admin delete, users only (SUPERUSER).
test_admin_delete_allowed if allowed(admin, "delete")

test_backend_delete_denied if not allowed(backend, "delete")

test_schooladmin_delete_denied if not allowed(schooladmin, "delete")

test_reader_delete_denied if not allowed(reader, "delete")

test_supporter_delete_denied if not allowed(supporter, "delete")

test_lms_delete_denied if not allowed(lms, "delete")

test_kiosk_delete_denied if not allowed(kiosk, "delete")

test_anonymous_delete_denied if not allowed(anonymous, "delete")

# A user:<uuid> principal alone (no role:admin) is not enough.
test_user_principal_only_delete_denied if not allowed(["system:authenticated", "user:x"], "delete")

# A principal merely containing "user:" elsewhere does not make a service account a user.
test_backend_with_lookalike_principal_delete_denied if {
	not allowed(array.concat(backend, ["role:user:x", "school:user:1"]), "delete")
}

# Default deny: other actions, even for admins.
test_admin_details_denied if not allowed(admin, "details")

test_admin_batch_denied if not allowed(admin, "batch")

test_backend_unknown_action_denied if not allowed(backend, "frobnicate")
