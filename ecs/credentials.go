package ecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
)

// Credentials are a static access key, with a security token when the key
// is temporary (STS). Printing, formatting, logging or JSON-encoding a
// Credentials never reveals the secret or the token: they are redacted, and
// the key ID is shortened.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string // empty for a long-term key
}

// IsZero reports whether no part of the credentials is set.
func (c Credentials) IsZero() bool { return c == Credentials{} }

// String describes the credentials without their secrets.
func (c Credentials) String() string {
	token := "none"
	if c.SecurityToken != "" {
		token = redacted
	}
	secret := "none"
	if c.AccessKeySecret != "" {
		secret = redacted
	}
	return fmt.Sprintf("ecs.Credentials{AccessKeyID: %s, AccessKeySecret: %s, SecurityToken: %s}",
		maskID(c.AccessKeyID), secret, token)
}

// GoString is String, so %#v does not reveal the secrets either.
func (c Credentials) GoString() string { return c.String() }

// Format prints String for every verb, so no fmt verb reveals the secrets.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the secrets out of structured logs.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes the redacted form.
func (c Credentials) MarshalJSON() ([]byte, error) {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return redacted
	}
	return json.Marshal(struct {
		AccessKeyID     string
		AccessKeySecret string
		SecurityToken   string
	}{maskID(c.AccessKeyID), red(c.AccessKeySecret), red(c.SecurityToken)})
}

const redacted = "[redacted]"

// maskID keeps the first four characters of an access key ID (which tell a
// long-term "LTAI" key from an STS "STS." one) and hides the rest.
func maskID(id string) string {
	switch {
	case id == "":
		return `""`
	case len(id) <= 8:
		return "****"
	default:
		return id[:4] + "****"
	}
}

func (c Credentials) check() error {
	switch {
	case c.AccessKeyID == "" && c.AccessKeySecret == "":
		return errors.New("credentials: no access key ID and no secret")
	case c.AccessKeyID == "":
		return errors.New("credentials: an access key secret without an access key ID")
	case c.AccessKeySecret == "":
		return errors.New("credentials: access key ID without a secret")
	}
	return nil
}

// envFamilies are the environment variable names aliyun CLI and Terraform
// users already have set, in the order they are tried. A family is used
// only when both its ID and its secret are set, so a key ID from one tool's
// names is never paired with another tool's secret.
func envFamilies() [4][3]string {
	return [...][3]string{
		// The SDK's and the aliyun CLI's own names.
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"},
		{"ALIBABACLOUD_ACCESS_KEY_ID", "ALIBABACLOUD_ACCESS_KEY_SECRET", "ALIBABACLOUD_SECURITY_TOKEN"},
		{"ALICLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECURITY_TOKEN"},
		// The Terraform provider's older names.
		{"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN"},
	}
}

// CredentialsFromEnv returns the access key found through getenv (pass
// os.Getenv), trying ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN,
// then the ALIBABACLOUD_ and ALICLOUD_ACCESS_KEY_ID forms, then Terraform's
// ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY / ALICLOUD_SECURITY_TOKEN. It
// reports false when no family has both an ID and a secret.
func CredentialsFromEnv(getenv func(string) string) (Credentials, bool) {
	for _, fam := range envFamilies() {
		id, secret := strings.TrimSpace(getenv(fam[0])), strings.TrimSpace(getenv(fam[1]))
		if id != "" && secret != "" {
			return Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: strings.TrimSpace(getenv(fam[2]))}, true
		}
	}
	return Credentials{}, false
}

// cliConfig is the part of the aliyun CLI's config.json ecsnet reads.
// Unknown keys are ignored: the CLI adds fields between releases.
type cliConfig struct {
	Current  string       `json:"current"`
	Profiles []cliProfile `json:"profiles"`
}

type cliProfile struct {
	Name            string `json:"name"`
	Mode            string `json:"mode"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	StsToken        string `json:"sts_token"`
}

// CredentialsFromProfile reads a profile of the aliyun CLI's configuration
// file (the caller passes its path, normally ~/.aliyun/config.json). An
// empty name selects the file's "current" profile, or "default". Modes AK
// and StsToken are supported; any other mode is an error that says so
// (for EcsRamRole use Config.UseECSRAMRole instead). Errors never contain
// a secret.
func CredentialsFromProfile(path, name string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("aliyun CLI profile: %w", err)
	}
	var cfg cliConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		// The decoder's message quotes no input, but keep it short anyway.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Credentials{}, fmt.Errorf("aliyun CLI profile %s: not valid JSON at byte %d", path, se.Offset)
		}
		return Credentials{}, fmt.Errorf("aliyun CLI profile %s: unexpected structure", path)
	}
	if name == "" {
		name = cfg.Current
	}
	if name == "" {
		name = "default"
	}
	var names []string
	for _, p := range cfg.Profiles {
		names = append(names, p.Name)
		if p.Name != name {
			continue
		}
		c := Credentials{
			AccessKeyID:     strings.TrimSpace(p.AccessKeyID),
			AccessKeySecret: strings.TrimSpace(p.AccessKeySecret),
		}
		switch p.Mode {
		case "AK", "":
			// The CLI writes mode AK; configuration files from before
			// modes existed have none and hold an access key.
		case "StsToken":
			c.SecurityToken = strings.TrimSpace(p.StsToken)
			if c.SecurityToken == "" {
				return Credentials{}, fmt.Errorf("aliyun CLI profile %q (%s): mode StsToken without sts_token", name, path)
			}
		default:
			hint := ""
			if p.Mode == "EcsRamRole" {
				hint = "; to use the instance's RAM role, name it explicitly (ecsnet --ecs-ram-role ROLE)"
			}
			return Credentials{}, fmt.Errorf("aliyun CLI profile %q (%s): mode %q is not supported, only AK and StsToken%s",
				name, path, p.Mode, hint)
		}
		if err := c.check(); err != nil {
			return Credentials{}, fmt.Errorf("aliyun CLI profile %q (%s): %w", name, path, err)
		}
		return c, nil
	}
	slices.Sort(names)
	return Credentials{}, fmt.Errorf("aliyun CLI profile %q not found in %s (profiles: %s)", name, path, strings.Join(names, ", "))
}
