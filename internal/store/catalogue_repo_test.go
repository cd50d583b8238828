package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

func TestTypeIssuers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		definer, err := s.CreateDepartment(ctx, licence.Department{Name: "阳城县公安局", USCC: demo.USCCPublicSecurity, Kind: licence.DeptIssuer, AreaCode: "140522"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateDepartment(ctx, licence.Department{Name: "阳城县民政局", USCC: demo.USCCCivilAffairs, Kind: licence.DeptIssuer, AreaCode: "140522"})
		if err != nil {
			t.Fatal(err)
		}
		typ := licence.Type{Code: demo.TypeResidentID, Name: "居民身份证", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{{Key: "name", Label: "姓名", Type: "text", Required: true}}, FaceTemplate: "resident-id"}
		if err := s.CreateType(ctx, typ); err != nil {
			t.Fatal(err)
		}
		mayIssue := func(dept int64) bool {
			t.Helper()
			ok, err := s.MayIssue(ctx, dept, typ.Code)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		// A new type is issued by its defining department only.
		if !mayIssue(definer.ID) || mayIssue(other.ID) {
			t.Fatal("a new type is not issued by exactly its defining department")
		}
		if err := s.SetTypeIssuers(ctx, typ.Code, []int64{other.ID}); err != nil {
			t.Fatal(err)
		}
		if mayIssue(definer.ID) || !mayIssue(other.ID) {
			t.Fatal("SetTypeIssuers did not replace the list")
		}
		got, err := s.TypeIssuers(ctx)
		if err != nil || !reflect.DeepEqual(got, map[string][]string{typ.Code: {demo.USCCCivilAffairs}}) {
			t.Fatalf("TypeIssuers = %v, %v", got, err)
		}
		read, err := s.Type(ctx, typ.Code)
		if err != nil || read.FaceTemplate != "resident-id" || !read.Fields[0].Required {
			t.Fatalf("type read back as %+v, %v", read, err)
		}

		// Updates of what is not there are not found, not silently nothing.
		if err := s.UpdateType(ctx, licence.Type{Code: demo.TypeDiploma, Name: "学历学位证书"}); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("UpdateType of a missing type: %v", err)
		}
		if err := s.UpdateDepartment(ctx, licence.Department{Name: "x", USCC: demo.USCCEducation}); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("UpdateDepartment of a missing department: %v", err)
		}
	})
}
