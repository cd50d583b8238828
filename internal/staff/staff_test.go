package staff

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
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
	if err != nil || len(pw) < 20 || len(repo.added) != 1 || repo.added[0].Username != "clerk-1" {
		t.Fatalf("add = %q, %v, %+v", pw, err, repo.added)
	}
}
