package staff

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/token"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the documented parameters", h)
	}
	if h2, _ := HashPassword("correct horse"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct hors": false, "": false} {
		if ok, err := checkPassword(h, pw); err != nil || ok != want {
			t.Errorf("check %q = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=0,t=1,p=1$AA$AA", "$argon2id$v=19$m=8,t=1,p=1$!!$AA"} {
		if _, err := checkPassword(bad, "x"); !errors.Is(err, errBadHash) {
			t.Errorf("malformed hash %q: %v", bad, err)
		}
	}
}

func TestPermissions(t *testing.T) {
	clerk := Member{Role: RoleClerk}
	if !clerk.May(PermLicencesWrite) || clerk.May(PermStaffManage) {
		t.Fatalf("clerk permissions: %v", clerk.Permissions())
	}
	if seal := (Member{Role: RoleSealAdmin}); seal.May(PermLicencesRead) || len(seal.Permissions()) != 0 {
		t.Fatalf("seal admin permissions: %v", seal.Permissions())
	}
	now := time.Now()
	clerk.DisabledAt = &now
	if clerk.May(PermLicencesRead) || len(clerk.Permissions()) != 0 {
		t.Fatal("a disabled member may still act")
	}
	if (Member{Role: "root"}).May(PermStaffManage) {
		t.Fatal("an unknown role may act")
	}
}

// addOnly is a Repository that only records AddStaff.
type addOnly struct {
	Repository
	added []Member
}

func (r *addOnly) AddStaff(_ context.Context, m Member, hash string, ev audit.Event) (Member, error) {
	if !strings.HasPrefix(hash, "$argon2id$") || ev.Action != "staff.add" {
		return Member{}, errors.New("unexpected hash or event")
	}
	r.added = append(r.added, m)
	return m, nil
}

func TestAddValidates(t *testing.T) {
	dept := licence.Department{ID: 7, USCC: "121405220120805465"}
	for name, c := range map[string]struct {
		username string
		role     Role
		dept     licence.Department
	}{
		"short username":          {"ab", RoleClerk, dept},
		"upper case":              {"Clerk", RoleClerk, dept},
		"unknown role":            {"clerk-1", "root", dept},
		"clerk without dept":      {"clerk-1", RoleClerk, licence.Department{}},
		"platform admin and dept": {"admin-1", RolePlatformAdmin, dept},
	} {
		repo := &addOnly{}
		if _, _, err := Add(t.Context(), repo, "cli:test", c.username, c.role, c.dept, time.Now()); !errors.Is(err, ErrInvalid) || len(repo.added) != 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	repo := &addOnly{}
	_, pw, err := Add(t.Context(), repo, "cli:test", " clerk-1 ", RoleClerk, dept, time.Now())
	if err != nil || len(pw) < 20 || len(repo.added) != 1 || repo.added[0].Username != "clerk-1" || !repo.added[0].PasswordMustChange {
		t.Fatalf("add = %q, %v, %+v (want the one-time password marked for change)", pw, err, repo.added)
	}
}

func TestCheckNewPassword(t *testing.T) {
	const old = "ONETIMEPASSWORDFROMTHEADD1"
	for name, next := range map[string]string{
		"too short":    "elevenchars",
		"too long":     strings.Repeat("x", maxPasswordLength+1),
		"the old one":  old,
		"empty string": "",
	} {
		if err := checkNewPassword(old, next); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Length counts characters, not bytes: twelve Chinese characters pass,
	// eleven do not.
	for next, ok := range map[string]bool{"阳城县行政审批服务管理局": true, "阳城县行政审批服务管理": false, "twelve chars": true} {
		if err := checkNewPassword(old, next); (err == nil) != ok {
			t.Errorf("%q: %v", next, err)
		}
	}
}

// oneMember is a Repository that knows one member.
type oneMember struct {
	Repository
	m Member
}

func (r oneMember) Staff(context.Context, int64) (Member, error) { return r.m, nil }

// oneSession is a session store holding one live session of member 1.
type oneSession struct {
	Sessions
	revoked bool
}

func (s *oneSession) Get(context.Context, string) (SessionRecord, bool, error) {
	now := time.Now()
	return SessionRecord{StaffID: 1, CSRF: "csrf", CreatedAt: now, LastSeen: now}, true, nil
}

func (s *oneSession) Touch(context.Context, string, SessionRecord, time.Duration) error { return nil }

func (s *oneSession) DeleteAll(context.Context, int64) error {
	s.revoked = true
	return nil
}

// A session of a member who must still change their password is no
// session, whatever set the mark after it opened: the console refuses them
// everything until the change.
func TestResolveRefusesMemberWhoMustChangePassword(t *testing.T) {
	for _, mustChange := range []bool{false, true} {
		sessions := &oneSession{}
		repo := oneMember{m: Member{ID: 1, Username: "clerk-1", Role: RoleClerk, PasswordMustChange: mustChange}}
		svc, err := NewService(repo, sessions, struct{ Counter }{}, Options{
			Idle: time.Hour, Absolute: 2 * time.Hour, MaxFailures: 5, Lockout: time.Minute,
			Key: func(p ...string) string { return strings.Join(p, ":") },
		})
		if err != nil {
			t.Fatal(err)
		}
		id, err := token.New()
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Resolve(t.Context(), id)
		if mustChange && (!errors.Is(err, ErrNoSession) || !sessions.revoked) {
			t.Fatalf("member who must change: %v (revoked %v), want no session and its sessions revoked", err, sessions.revoked)
		}
		if !mustChange && err != nil {
			t.Fatalf("member who need not change: %v", err)
		}
	}
}
