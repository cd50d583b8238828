package openapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

var (
	// ErrAppNotFound is returned by an AppRepository for an unknown app id.
	ErrAppNotFound = errors.New("openapi: app not found")
	// ErrAppDisabled is a secret rotation or a disable of an app already
	// disabled: a disabled app stays disabled.
	ErrAppDisabled = errors.New("openapi: app disabled")
	// ErrBadAppName is returned for an empty or over-long app name.
	ErrBadAppName = errors.New("openapi: app name must be 1 to 64 characters")
)

// App is one department system allowed to call the Open API (接入应用).
// Its secret is never part of it: it is read only to check a signature.
type App struct {
	ID         string
	Name       string
	Department licence.Department
	// DisabledAt is set when the app may no longer call; nil = enabled.
	DisabledAt *time.Time
	CreatedAt  time.Time
}

// AppRepository keeps apps with their secrets sealed at rest (the store).
type AppRepository interface {
	// AddApp stores app with its secret and appends ev in the same
	// transaction.
	AddApp(ctx context.Context, app App, secret string, ev audit.Event) error
	// DisableApp marks an enabled app disabled and appends ev in the same
	// transaction; ErrAppNotFound when there is no enabled app with the id.
	DisableApp(ctx context.Context, appID string, at time.Time, ev audit.Event) error
	// AppSecret returns the app and its secret, or ErrAppNotFound.
	AppSecret(ctx context.Context, appID string) (App, string, error)
	// App returns the app without its secret, or ErrAppNotFound.
	App(ctx context.Context, appID string) (App, error)
	// AppsByDepartment lists the department's apps, oldest first.
	AppsByDepartment(ctx context.Context, departmentID int64) ([]App, error)
	// RotateAppSecret replaces an enabled app's secret and appends ev in the
	// same transaction; ErrAppNotFound when there is no enabled app with
	// the id.
	RotateAppSecret(ctx context.Context, appID, secret string, ev audit.Event) error
}

// Credentials are what `bff app add` prints once: the secret is shown only
// then and is stored sealed.
type Credentials struct {
	AppID     string `json:"app_id"`
	AppSecret string `json:"app_secret"`
}

// NewCredentials returns a fresh app id ("app_" + 20 hex digits, 80 random
// bits: unique, not secret) and secret (256 random bits, base64url, 43
// characters: used as the HMAC key as printed).
func NewCredentials() (Credentials, error) {
	id := make([]byte, 10)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return Credentials{}, fmt.Errorf("openapi: app id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Credentials{}, fmt.Errorf("openapi: app secret: %w", err)
	}
	return Credentials{AppID: "app_" + hex.EncodeToString(id), AppSecret: base64.RawURLEncoding.EncodeToString(secret)}, nil
}

// AddApp registers a new app for dept and returns its credentials, audited
// as app.add by actor (audit.ActorCLI("app add")). The secret is in
// neither the audit event nor any log.
func AddApp(ctx context.Context, repo AppRepository, dept licence.Department, name, actor string, now time.Time) (Credentials, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return Credentials{}, ErrBadAppName
	}
	cred, err := NewCredentials()
	if err != nil {
		return Credentials{}, err
	}
	app := App{ID: cred.AppID, Name: name, Department: dept, CreatedAt: now}
	ev := audit.Event{At: now, Actor: actor, Action: "app.add", Object: "app:" + app.ID,
		Detail: fmt.Sprintf("department %s, name %q", dept.USCC, name)}
	if err := repo.AddApp(ctx, app, cred.AppSecret, ev); err != nil {
		return Credentials{}, fmt.Errorf("openapi: add app: %w", err)
	}
	return cred, nil
}

// DisableApp stops an app at once: its next request is refused as an
// invalid signature, as if it never existed. Audited as app.disable. With
// a scope (a department's admin) an app of another department is
// ErrAppNotFound; the zero scope (`bff app disable`) reaches every app.
func DisableApp(ctx context.Context, repo AppRepository, scope licence.Department, appID, actor string, now time.Time) error {
	if _, err := enabledApp(ctx, repo, scope, appID); err != nil {
		return fmt.Errorf("openapi: disable app: %w", err)
	}
	ev := audit.Event{At: now, Actor: actor, Action: "app.disable", Object: "app:" + appID}
	if err := repo.DisableApp(ctx, appID, now, ev); err != nil {
		return fmt.Errorf("openapi: disable app: %w", err)
	}
	return nil
}

// RotateSecret gives an enabled app a new secret, returned here only, and
// audited as app.rotate_secret. The old secret stops working at once: every
// request reads the secret afresh.
func RotateSecret(ctx context.Context, repo AppRepository, scope licence.Department, appID, actor string, now time.Time) (Credentials, error) {
	if _, err := enabledApp(ctx, repo, scope, appID); err != nil {
		return Credentials{}, fmt.Errorf("openapi: rotate secret: %w", err)
	}
	fresh, err := NewCredentials()
	if err != nil {
		return Credentials{}, err
	}
	ev := audit.Event{At: now, Actor: actor, Action: "app.rotate_secret", Object: "app:" + appID}
	if err := repo.RotateAppSecret(ctx, appID, fresh.AppSecret, ev); err != nil {
		return Credentials{}, fmt.Errorf("openapi: rotate secret: %w", err)
	}
	return Credentials{AppID: appID, AppSecret: fresh.AppSecret}, nil
}

// enabledApp reads the app within scope (the zero scope: any department):
// an app of another department is not found, a disabled one ErrAppDisabled.
func enabledApp(ctx context.Context, repo AppRepository, scope licence.Department, appID string) (App, error) {
	app, err := repo.App(ctx, appID)
	if err != nil {
		return App{}, err
	}
	if scope.ID != 0 && app.Department.ID != scope.ID {
		return App{}, ErrAppNotFound
	}
	if app.DisabledAt != nil {
		return App{}, ErrAppDisabled
	}
	return app, nil
}
