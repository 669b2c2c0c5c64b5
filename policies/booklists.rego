# Package huey.resource.book_lists is the route-level ACL of the booklist routes (spec/access.md
# §7.4), plus the "publish" permission of F3: creating, or turning a list into, a Huey, Regional or
# Other list (the only kinds that can be published) is for admins only, on POST and on PATCH
# alike. input.resource.id is "".
package huey.resource.book_lists

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All (create, read, update, delete, publish).
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow system:authenticated create, read, update.
	input.action in {"create", "read", "update"}
	input.principals["system:authenticated"]
} else := "deny"
