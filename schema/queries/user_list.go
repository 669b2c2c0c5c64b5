package queries

// UsersFilter is GET /v1/users' optional filters; nil is "not given".
type UsersFilter struct {
	Pattern          *string // ILIKE pattern on name or e-mail, already escaped
	Active           *bool
	Type             *string // enum_user_account_type
	SubscriptionType *string // an active subscription of this type (the original's filter is constant false)
}

func (u UsersFilter) filter() *Filter {
	f := &Filter{}
	f.AddIf(u.Pattern != nil, "(u.name ILIKE $? OR u.email ILIKE $?)", deref(u.Pattern))
	f.AddIf(u.Active != nil, "u.is_active = $?", deref(u.Active))
	f.AddIf(u.Type != nil, "u.type = $?::enum_user_account_type", deref(u.Type))
	f.AddIf(u.SubscriptionType != nil, `EXISTS (SELECT 1 FROM subscriptions x WHERE x.parent_id = u.id AND x.is_active
		AND x.type = $?::enum_subscription_type)`, deref(u.SubscriptionType))
	return f
}

// ListUsers is a page of the ids of the users u matches (row security
// decides which exist), active first, then by name. Dynamic: sqlc cannot
// express optional filters without a catch-all query (see Filter).
func ListUsers(u UsersFilter, skip, limit int) (string, []any) {
	return u.filter().Page(`SELECT u.id FROM users u`, "u.is_active DESC, u.name ASC, u.id", skip, limit)
}

// CountUsers counts the users u matches.
func CountUsers(u UsersFilter) (string, []any) {
	f := u.filter()
	return `SELECT count(*) FROM users u` + f.Where(), f.Args()
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
