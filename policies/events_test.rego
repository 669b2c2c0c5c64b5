# Tests of events.rego (the route-level event ACL) through data.huey.authz.allow.
package huey.resource.events_test

admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

reader := ["system:authenticated", "user:r1", "role:reader"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

kiosk17 := ["system:authenticated", "role:kiosk", "kiosk:17"]

anonymous := []

allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "events", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

attaches(ps, school_id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": "attach-school",
		"resource": {"type": "events", "id": "", "attrs": {"school_id": school_id}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_read_global_allowed if allowed(admin, "read-global")

test_backend_read_global_allowed if allowed(backend, "read-global")

test_admin_attach_school_allowed if attaches(admin, "17")

# Entry 2: Allow kiosk:{school_id} attach-school (R10: F17's any-school bypass closed).
test_r10_kiosk_attach_linked_school_allowed if attaches(kiosk17, "17")

test_r10_kiosk_attach_other_school_denied if not attaches(kiosk17, "18")

test_r10_unlinked_kiosk_attach_denied if not attaches(kiosk, "17")

test_r10_lms_attach_school_denied if not attaches(lms, "17")

test_kiosk_read_global_denied if not allowed(kiosk, "read-global")

test_schooladmin_attach_school_denied if not attaches(schooladmin, "17")

test_lms_attach_other_denied if not attaches(lms, "18")

# Entry 3: Allow system:authenticated create, read.
test_reader_create_allowed if allowed(reader, "create")

test_supporter_read_allowed if allowed(supporter, "read")

test_kiosk_create_allowed if allowed(kiosk, "create")

test_schooladmin_read_global_denied if not allowed(schooladmin, "read-global")

test_lms_read_global_denied if not allowed(lms, "read-global")

test_reader_delete_denied if not allowed(reader, "delete")

test_anonymous_create_denied if not allowed(anonymous, "create")

test_anonymous_read_denied if not allowed(anonymous, "read")
