package main

import (
	"context"
	"io"
	"strings"

	"github.com/wriveted/huey-api/schema/ops/deploycheck"
	"github.com/wriveted/huey-api/server/internal/config"
)

// checkConfig is `server check-config [-env FILE]... [-from-env] [-connect]`:
// the API's configuration loaded exactly as the service loads it, plus the
// deployment rules of package deploycheck. It prints one line per finding
// and fails when any is an error.
func checkConfig(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	o, err := deploycheck.ParseFlags("server", args, out)
	if err != nil {
		return err
	}
	env, err := deploycheck.LoadEnv(o, lookupOf(getenv))
	if err != nil {
		return err
	}
	r := &deploycheck.Report{Service: "server"}
	cfg, err := config.Load(env.Getenv, true)
	r.AddConfigError(err)
	appEnv := strings.ToLower(strings.TrimSpace(env.Getenv("APP_ENV")))
	production := appEnv == "" || appEnv == config.EnvProduction
	deploycheck.Common(r, env, production)
	if production && !env.Set("FIREBASE_PROJECT_ID") {
		r.Warnf("FIREBASE_PROJECT_ID is not set: Firebase ID tokens must then be for the project %q", "wriveted-api")
	}
	if o.Connect && err == nil {
		deploycheck.CheckLogin(ctx, r, cfg.DatabaseURL)
	}
	deploycheck.Unread(r, env, "API server")
	r.Write(out)
	return r.Err()
}

// lookupOf turns a getenv into a lookup; an empty value counts as unset.
func lookupOf(getenv func(string) string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
}
