// Package officer is a department's verifying officers (核验人员) as the
// department manages them: the list, invitations by a one-time link the
// officer opens in WeChat to bind their account to the department, and
// removal, which takes effect on the officer's very next request (the
// session middleware reads the binding on every request). docs/CONSOLE.md
// describes the rules; the package knows nothing of HTTP, SQL or Redis.
package officer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/token"
)

// InviteTTL is how long an invitation link works: a day is enough to pass
// it to a colleague and short enough that a forgotten link is dead.
const InviteTTL = 24 * time.Hour

// InvitePath is where an invitation link points on the public URL; the
// H5 serves the page that accepts it.
const InvitePath = "/officer/invite/"

// Errors of the officer service.
var (
	// ErrNotFound is an officer who is not bound to the department, or an
	// invitation token that was never issued.
	ErrNotFound = errors.New("officer: not found")
	// ErrInviteExpired is an invitation past its 24 hours.
	ErrInviteExpired = errors.New("officer: invitation expired")
	// ErrInviteUsed is an invitation already accepted once.
	ErrInviteUsed = errors.New("officer: invitation already used")
	// ErrAlreadyOfficer is an invitation opened by an account already bound
	// as an officer: a binding is never moved between departments silently.
	ErrAlreadyOfficer = errors.New("officer: already an officer")
	// ErrBadName is an invitation without a name or with one over 64
	// characters.
	ErrBadName = errors.New("officer: name must be 1 to 64 characters")
)

// Officer is one WeChat account bound to a department.
type Officer struct {
	OpenID string
	// Name is the name the invitation carried; empty for a binding made
	// with `bff officer add`.
	Name       string
	Department int64
	CreatedAt  time.Time
}

// Invite is one invitation. Its token is never part of it: only the
// token's hash is stored, and the token is shown once, in the link.
type Invite struct {
	ID         int64
	Department licence.Department
	Name       string
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	UsedBy     string
}

// Repository keeps officers and invitations (the store). Every write
// appends its audit event in the same transaction.
type Repository interface {
	// CreateInvite stores inv under the token's hash and appends ev; it
	// returns inv with its id.
	CreateInvite(ctx context.Context, inv Invite, tokenHash string, ev audit.Event) (Invite, error)
	// AcceptInvite loads the invitation with the token hash (ErrNotFound)
	// and the account's current binding (0: none), lets decide check them
	// and name the audit event, then, in one transaction, marks the
	// invitation used by openid, binds openid to its department under its
	// name and appends the event.
	AcceptInvite(ctx context.Context, tokenHash, openid string, at time.Time,
		decide func(inv Invite, boundTo int64) (audit.Event, error)) (Invite, error)
	// Invite returns the invitation with the token hash, or ErrNotFound.
	Invite(ctx context.Context, tokenHash string) (Invite, error)
	// PendingInvites lists the department's invitations neither used nor
	// expired at now, newest first.
	PendingInvites(ctx context.Context, departmentID int64, now time.Time) ([]Invite, error)
	// Officers lists the department's officers, oldest binding first.
	Officers(ctx context.Context, departmentID int64) ([]Officer, error)
	// UnbindOfficer loads openid's binding (ErrNotFound), lets decide check
	// it and name the audit event, then ends the binding and appends the
	// event in one transaction.
	UnbindOfficer(ctx context.Context, openid string, decide func(dept licence.Department) (audit.Event, error)) error
}

// Service manages a department's officers.
type Service struct {
	repo      Repository
	publicURL string
	now       func() time.Time
}

// NewService returns the service; invitation links are built on
// publicURL. It rejects nil dependencies so wiring mistakes fail at boot.
func NewService(repo Repository, publicURL string, now func() time.Time) (*Service, error) {
	if repo == nil || now == nil || publicURL == "" {
		return nil, errors.New("officer: NewService needs a repository, a public URL and a clock")
	}
	return &Service{repo: repo, publicURL: strings.TrimRight(publicURL, "/"), now: now}, nil
}

// Invitation is a new invitation with its link, shown once: the token is
// stored only as its hash.
type Invitation struct {
	Invite Invite
	URL    string
	QR     []byte // PNG of URL
}

// Invite creates an invitation to dept for the officer called name,
// audited as officer.invite by actor.
func (s *Service) Invite(ctx context.Context, dept licence.Department, actor, name string) (Invitation, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return Invitation{}, ErrBadName
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Invitation{}, fmt.Errorf("officer: invitation token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	inv := Invite{Department: dept, Name: name, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	inv, err := s.repo.CreateInvite(ctx, inv, token.Hash(tok), audit.Event{At: now, Actor: actor, Action: "officer.invite",
		Object: "department:" + dept.USCC, Detail: fmt.Sprintf("name %q, expires %s", name, inv.ExpiresAt.Format(time.RFC3339))})
	if err != nil {
		return Invitation{}, fmt.Errorf("officer: invite: %w", err)
	}
	link := s.publicURL + InvitePath + tok
	// Crisp modules at an integer scale, as on the show codes: the
	// library's own scaling makes modules of uneven width at 256 px.
	png, err := showcode.NewRenderer(showcode.DefaultQRSize).PNG(link)
	if err != nil {
		return Invitation{}, fmt.Errorf("officer: invitation QR: %w", err)
	}
	return Invitation{Invite: inv, URL: link, QR: png}, nil
}

// Accept binds openid as an officer of the invitation's department: once,
// within 24 hours, and only for an account that is no officer yet. The
// binding is audited as officer.add by the account itself.
func (s *Service) Accept(ctx context.Context, tok, openid string) (Invite, error) {
	now := s.now().UTC()
	return s.repo.AcceptInvite(ctx, token.Hash(tok), openid, now, func(inv Invite, boundTo int64) (audit.Event, error) {
		if err := inv.usable(now); err != nil {
			return audit.Event{}, err
		}
		if boundTo != 0 {
			return audit.Event{}, ErrAlreadyOfficer
		}
		return audit.Event{At: now, Actor: audit.ActorAccount(openid), Action: "officer.add", Object: "officer:" + openid,
			Detail: fmt.Sprintf("department %s, invitation %d by %s", inv.Department.USCC, inv.ID, inv.CreatedBy)}, nil
	})
}

// Peek reads an invitation for the page that offers to accept it, with
// the refusals Accept would give for the invitation itself.
func (s *Service) Peek(ctx context.Context, tok string) (Invite, error) {
	inv, err := s.repo.Invite(ctx, token.Hash(tok))
	if err != nil {
		return Invite{}, err
	}
	if err := inv.usable(s.now()); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// usable refuses an invitation used or expired at now.
func (inv Invite) usable(now time.Time) error {
	switch {
	case inv.UsedAt != nil:
		return ErrInviteUsed
	case !now.Before(inv.ExpiresAt):
		return ErrInviteExpired
	}
	return nil
}

// Pending lists the department's invitations still open.
func (s *Service) Pending(ctx context.Context, dept licence.Department) ([]Invite, error) {
	return s.repo.PendingInvites(ctx, dept.ID, s.now())
}

// List lists the department's officers.
func (s *Service) List(ctx context.Context, dept licence.Department) ([]Officer, error) {
	return s.repo.Officers(ctx, dept.ID)
}

// Remove ends openid's binding for a department's admin: an officer of
// another department is ErrNotFound.
func (s *Service) Remove(ctx context.Context, dept licence.Department, actor, openid string) error {
	_, err := Remove(ctx, s.repo, dept, actor, openid, s.now())
	return err
}

// Remove ends openid's binding, audited as officer.remove by actor, and
// returns the department it was bound to. With a scope an officer of
// another department is ErrNotFound; the zero scope (`bff officer remove`
// on the server) removes any officer. The removal is effective on the
// officer's next request, which reads the binding afresh.
func Remove(ctx context.Context, repo Repository, scope licence.Department, actor, openid string, now time.Time) (licence.Department, error) {
	var from licence.Department
	err := repo.UnbindOfficer(ctx, openid, func(dept licence.Department) (audit.Event, error) {
		if scope.ID != 0 && dept.ID != scope.ID {
			return audit.Event{}, ErrNotFound
		}
		from = dept
		return audit.Event{At: now.UTC(), Actor: actor, Action: "officer.remove", Object: "officer:" + openid,
			Detail: "department " + dept.USCC}, nil
	})
	if err != nil {
		return licence.Department{}, fmt.Errorf("officer: remove: %w", err)
	}
	return from, nil
}
