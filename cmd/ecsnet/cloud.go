package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs"
	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/schema"
)

// cloudArgs are the flags of every command that talks to the cloud (or
// reads a snapshot instead).
type cloudArgs struct {
	endpoint   string
	region     string
	profile    string
	ramRole    string
	observed   string
	lockPath   string
	maxInput   int64
	eval       evalLimits
	rateFactor float64
}

func addCloudFlags(fs *pflag.FlagSet, a *cloudArgs, withSnapshot bool) {
	fs.StringVar(&a.endpoint, "endpoint", "", "API endpoint URL, e.g. http://127.0.0.1:8080 for ecsnet emulator (default: the region's HTTPS endpoint)")
	fs.StringVar(&a.region, "region", "", "region ID (default: the fleet's region)")
	fs.StringVar(&a.profile, "profile", "", "use this profile of the aliyun CLI's ~/.aliyun/config.json instead of ALIBABA_CLOUD_ACCESS_KEY_* variables")
	fs.StringVar(&a.ramRole, "ecs-ram-role", "", "use this RAM role of the ECS instance ecsnet runs on (asks the instance metadata service)")
	fs.StringVar(&a.lockPath, "lock", "", "lock file (default: ecsnet.lock.json beside the desired state)")
	fs.Int64Var(&a.maxInput, "max-input-size", schema.DefaultMaxInputBytes, "refuse desired-state inputs larger than this many bytes in total")
	addEvalFlags(fs, &a.eval)
	if withSnapshot {
		fs.StringVar(&a.observed, "observed", "", "read the cloud from this snapshot (ecsnet observe) instead of calling the API; needs no credentials")
	}
}

// lockFile returns the lock path for the desired-state paths.
func (a *cloudArgs) lockFile(paths []string) string {
	if a.lockPath != "" {
		return a.lockPath
	}
	return schema.LockPath(paths)
}

// newClient builds the SDK client from flags and the environment.
// Credentials come from --profile, --ecs-ram-role or the environment, in
// that order; the metadata service is asked only with --ecs-ram-role.
func newClient(a *cloudArgs, f *schema.Fleet, e env) (*ecs.Client, error) {
	region := a.region
	if region == "" {
		region = f.Region
	}
	cfg := ecs.Config{Region: region, Endpoint: a.endpoint, UseECSRAMRole: a.ramRole}
	switch {
	case a.ramRole != "":
	case a.profile != "":
		path := e.getenv("ALIBABA_CLOUD_CONFIG_FILE")
		if path == "" {
			home := e.getenv("HOME")
			if home == "" {
				return nil, fmt.Errorf("--profile: HOME is not set, so ~/.aliyun/config.json cannot be found")
			}
			path = filepath.Join(home, ".aliyun", "config.json")
		}
		c, err := ecs.CredentialsFromProfile(path, a.profile)
		if err != nil {
			return nil, err
		}
		cfg.Credentials = c
	default:
		c, ok := ecs.CredentialsFromEnv(e.getenv)
		if !ok {
			return nil, fmt.Errorf("no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), or use --profile NAME or --ecs-ram-role ROLE; to plan without credentials, use --observed SNAPSHOT")
		}
		cfg.Credentials = c
	}
	if e.tune.client != nil {
		e.tune.client(&cfg)
	}
	return ecs.New(cfg)
}

// observe returns the cloud state: from the snapshot when --observed is
// set, else from the API.
func observe(ctx context.Context, a *cloudArgs, f *schema.Fleet, e env) (*plan.Observed, error) {
	if a.observed != "" {
		o, err := readSnapshotFile(a.observed)
		return checkSnapshot(a.observed, f, o, err)
	}
	c, err := newClient(a, f, e)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Observe(ctx, f)
}

func readSnapshotFile(path string) (*plan.Observed, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	defer fh.Close()
	o, err := plan.ReadSnapshot(fh)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return o, nil
}

func checkSnapshot(path string, f *schema.Fleet, o *plan.Observed, err error) (*plan.Observed, error) {
	if err != nil {
		return nil, err
	}
	if o.Region != "" && o.Region != f.Region {
		return nil, fmt.Errorf("snapshot %s is of region %s, the fleet is in %s", path, o.Region, f.Region)
	}
	return o, nil
}

// background starts fn and returns a function that waits for its result.
// Commands read the lock and a snapshot while the fleet loads: the inputs
// are independent, and at 20,000 instances each takes about a second.
func background[T any](fn func() (T, error)) func() (T, error) {
	var v T
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		v, err = fn()
	}()
	return func() (T, error) {
		<-done
		return v, err
	}
}
