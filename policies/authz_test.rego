# Tests of authz.rego: default deny and dispatch on the resource type.
package huey.authz_test

admin := {"system:everyone": true, "system:authenticated": true, "role:admin": true}

# allowed holds when an admin may perform action on a resource of type typ.
allowed(typ, action) if {
	inp := {"principals": admin, "action": action, "resource": {"type": typ, "id": "17", "attrs": {}}}
	data.huey.authz.allow with input as inp
}

test_admin_school_read_allowed if allowed("school", "read")

test_admin_unknown_type_read_denied if not allowed("booklist", "read")

test_admin_empty_type_read_denied if not allowed("", "read")

test_admin_nested_type_denied if not allowed("school.decision", "read")

test_admin_test_package_type_denied if not allowed("school_test", "read")

test_admin_non_string_type_denied if {
	inp := {"principals": admin, "action": "read", "resource": {"type": 17, "id": "17", "attrs": {}}}
	not data.huey.authz.allow with input as inp
}

test_admin_missing_resource_denied if {
	not data.huey.authz.allow with input as {"principals": admin, "action": "read"}
}

test_empty_input_denied if not data.huey.authz.allow with input as {}

test_empty_input_default_false_denied if {
	data.huey.authz.allow == false with input as {}
}
