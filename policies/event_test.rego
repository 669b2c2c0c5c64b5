# Tests of event.rego (one event) through data.huey.authz.allow.
package huey.resource.event_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader", "child:p1"]

parent := ["system:authenticated", "user:p1", "parent:s17", "parent:r1"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

reading_log := "Reader timeline event: Reading logged"

# allowed holds when the principals ps may perform action on an event with the given attributes.
allowed(ps, action, title, school_id, user_id, supported) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "event", "id": "ev1", "attrs": {
			"title": title, "school_id": school_id, "user_id": user_id, "supported": supported,
		}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_read_any_allowed if allowed(admin, "read", "Test", "", "", "false")

test_backend_read_school_event_allowed if allowed(backend, "read", "Test", "18", "", "false")

test_admin_delete_allowed if allowed(admin, "delete", "Test", "17", "s17", "false")

# Entry 2: school_id set: Allow educator:{school_id} read.
test_educator_own_school_event_read_allowed if allowed(educator, "read", "Test", "17", "", "false")

test_schooladmin_own_school_event_read_allowed if allowed(schooladmin, "read", "Test", "17", "", "false")

test_educator_other_school_event_read_denied if not allowed(educator, "read", "Test", "18", "", "false")

test_educator_own_school_event_update_denied if not allowed(educator, "update", "Test", "17", "", "false")

test_educator_schoolless_event_read_denied if not allowed(array.concat(educator, ["educator:"]), "read", "Test", "", "", "false")

test_lms_linked_school_event_read_denied if not allowed(lms, "read", "Test", "17", "", "false")

test_student_school_event_read_denied if not allowed(student, "read", "Test", "17", "", "false")

# Entry 3: user_id set: Allow user:{user_id} read.
test_user_own_event_read_allowed if allowed(reader, "read", "Test", "", "r1", "false")

test_user_own_event_delete_denied if not allowed(reader, "delete", "Test", "", "r1", "false")

test_user_other_event_read_denied if not allowed(reader, "read", "Test", "", "s17", "false")

test_userless_event_read_denied if not allowed(array.concat(reader, ["user:"]), "read", "Test", "", "", "false")

# Entry 4: user_id set: Allow parent:{user_id} read.
test_parent_child_event_read_allowed if allowed(parent, "read", "Test", "17", "s17", "false")

test_parent_child_event_update_denied if not allowed(parent, "update", "Test", "", "r1", "false")

test_parent_other_event_read_denied if not allowed(parent, "read", "Test", "", "x1", "false")

# Entry 5 (F20): reading-log events: Allow the reader's active supporters read.
test_f20_supporter_active_reading_log_read_allowed if allowed(supporter, "read", reading_log, "", "r1", "true")

test_f20_supporter_inactive_reading_log_read_denied if not allowed(supporter, "read", reading_log, "", "r1", "false")

test_f20_supporter_other_title_read_denied if not allowed(supporter, "read", "Notification: Supporter left feedback", "", "r1", "true")

test_f20_supporter_title_prefix_is_case_sensitive_denied if not allowed(supporter, "read", "reader timeline event: Reading logged", "", "r1", "true")

test_f20_supporter_update_denied if not allowed(supporter, "update", reading_log, "", "r1", "true")

test_f20_supporter_userless_event_denied if not allowed(supporter, "read", reading_log, "", "", "true")

test_f20_supported_flag_without_authentication_denied if not allowed(anonymous, "read", reading_log, "", "r1", "true")

test_supported_must_be_the_string_true_denied if {
	inp := {
		"principals": {"system:everyone": true, "system:authenticated": true, "user:sp1": true},
		"action": "read",
		"resource": {"type": "event", "id": "ev1", "attrs": {
			"title": reading_log, "school_id": "", "user_id": "r1", "supported": true,
		}},
	}
	not data.huey.authz.allow with input as inp
}

# Nobody else.
test_kiosk_read_denied if not allowed(kiosk, "read", "Test", "17", "r1", "false")

test_anonymous_read_denied if not allowed(anonymous, "read", "Test", "17", "r1", "false")
