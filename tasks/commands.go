package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/ops/deploycheck"
	"github.com/wriveted/huey-api/schema/ops/healthcheck"
)

// command runs the task server (no arguments) or one of its commands:
//
//	tasks healthcheck                        exit 0 when this container's task server answers GET /v1/version on $PORT
//	tasks check-config [-env F] [-connect]    validate a deployment's environment (docs/deploy-gcp.md)
func command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return run(ctx, getenv, stdout, nil)
	}
	switch args[0] {
	case "healthcheck":
		return healthcheck.Check(ctx, getenv, 8001)
	case "check-config":
		return checkConfig(ctx, args[1:], getenv, stdout)
	}
	return fmt.Errorf("unknown command %q (want no command, `healthcheck` or `check-config`)", args[0])
}

// checkConfig loads the task server's configuration exactly as it starts,
// then checks the deployment rules: in production a Cloud Tasks queue (the
// local queue authenticates with the shared secret, which production
// refuses) and no shared secret; with -connect the login and the
// background-work account.
func checkConfig(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	o, err := deploycheck.ParseFlags("tasks", args, out)
	if err != nil {
		return err
	}
	env, err := deploycheck.LoadEnv(o, func(k string) (string, bool) { v := getenv(k); return v, v != "" })
	if err != nil {
		return err
	}
	r := &deploycheck.Report{Service: "tasks"}
	cfg, err := loadConfig(env.Getenv)
	r.AddConfigError(err)
	appEnv := strings.ToLower(strings.TrimSpace(env.Getenv("APP_ENV")))
	production := appEnv == "" || appEnv == "production"
	deploycheck.Common(r, env, production)
	if production {
		if !env.Set("GCP_CLOUD_TASKS_NAME") {
			r.Errorf("GCP_CLOUD_TASKS_NAME is not set while APP_ENV=production: without a Cloud Tasks queue tasks would be delivered with the shared secret, which production refuses (OIDC only)")
		}
		if v := env.Getenv("WRIVETED_INTERNAL_API"); v != "" && !strings.HasPrefix(v, "https://") {
			r.Warnf("WRIVETED_INTERNAL_API=%q is not https: a Cloud Run service's URL is https://…run.app, and it is the OIDC audience tasks are verified against", v)
		}
		if !env.Set("GCP_CLOUD_TASKS_SERVICE_ACCOUNT") {
			r.Warnf("GCP_CLOUD_TASKS_SERVICE_ACCOUNT is not set: only OIDC tokens of %s are accepted", "background-tasks@wriveted-api.iam.gserviceaccount.com")
		}
	}
	if o.Connect && err == nil {
		deploycheck.CheckLogin(ctx, r, cfg.databaseURL)
		if pool, perr := db.Open(ctx, cfg.databaseURL, "huey-check-config"); perr == nil {
			if aerr := checkActor(ctx, pool, cfg.actorID); aerr != nil {
				r.Errorf("%v", aerr)
			}
			pool.Close()
		}
	}
	deploycheck.Unread(r, env, "task server")
	r.Write(out)
	return r.Err()
}
