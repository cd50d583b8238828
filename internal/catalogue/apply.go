package catalogue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Reader reads the catalogue as storage holds it (store.Store).
type Reader interface {
	Departments(ctx context.Context) ([]licence.Department, error)
	Types(ctx context.Context) ([]licence.Type, error)
	TypeIssuers(ctx context.Context) (map[string][]string, error)
	UsageLists(ctx context.Context) ([]licence.UsageListEntry, error)
	LicenceCountsByType(ctx context.Context) (map[string]int64, error)
}

// Repository is the storage a catalogue is applied to (store.Store).
type Repository interface {
	Reader
	CreateDepartment(ctx context.Context, d licence.Department) (licence.Department, error)
	UpdateDepartment(ctx context.Context, d licence.Department) error
	CreateType(ctx context.Context, t licence.Type) error
	UpdateType(ctx context.Context, t licence.Type) error
	SetTypeIssuers(ctx context.Context, typeCode string, departmentIDs []int64) error
	SetUsageList(ctx context.Context, departmentID int64, typeCode string, purposes []string) error
	RemoveFromUsageList(ctx context.Context, departmentID int64, typeCode string) error
	audit.Appender
}

// TxFunc runs fn in one transaction with a Repository bound to it: when fn
// returns an error nothing it wrote stays.
type TxFunc func(ctx context.Context, fn func(tx Repository) error) error

// Action is what applying does to one entry.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Removed   Action = "removed" // a type taken off a usage list the file gives in full
)

// Kinds of entry in a plan.
const (
	KindDepartment = "department"
	KindType       = "type"
	KindUsageList  = "usage list"
)

// Change is one entry of a plan.
type Change struct {
	Kind   string
	Key    string   // USCC, type code, or "USCC/type code"
	Name   string   // human name of the entry
	Action Action   //
	What   []string // attributes an update changes
}

// Plan is what applying a catalogue does (or did), entry by entry, in
// file order.
type Plan struct{ Changes []Change }

// Count returns how many entries of kind ("" for all) get action.
func (p Plan) Count(kind string, a Action) int {
	n := 0
	for _, c := range p.Changes {
		if (kind == "" || c.Kind == kind) && c.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether applying writes anything.
func (p Plan) Changed() bool { return p.Count("", Unchanged) < len(p.Changes) }

// Summary is one line of counts, also the audit event's detail.
func (p Plan) Summary() string {
	parts := make([]string, 0, 3)
	for _, k := range []string{KindDepartment, KindType, KindUsageList} {
		s := fmt.Sprintf("%ss: %d created, %d updated, %d unchanged", k, p.Count(k, Created), p.Count(k, Updated), p.Count(k, Unchanged))
		if n := p.Count(k, Removed); n > 0 {
			s += fmt.Sprintf(", %d removed", n)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Print writes one line per entry and the summary.
func (p Plan) Print(w io.Writer) {
	for _, c := range p.Changes {
		line := fmt.Sprintf("%-9s %s %s %s", c.Action, c.Kind, c.Key, c.Name)
		if len(c.What) > 0 {
			line += " (" + strings.Join(c.What, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, p.Summary())
}

// Options of one apply.
type Options struct {
	// Actor is the audit actor ("cli:catalogue", "system:seed").
	Actor string
	// DryRun computes and returns the plan and writes nothing.
	DryRun bool
	// CreateOnly adds what is missing and leaves every entry already on
	// record as it is, nothing removed: demo seeding at start-up, so an
	// administrator's later edits survive a restart.
	CreateOnly bool
	// Now stamps the audit event; nil means time.Now.
	Now func() time.Time
	// Object is the audit event's object; empty means "catalogue". The
	// console names what one of its edits changes ("department:<uscc>").
	Object string
	// Confirm, when set, sees the plan inside the transaction before
	// anything is written, and before the problems storage shows in the
	// catalogue are reported (a refusal of the whole entry comes first);
	// an error from it ends the apply, nothing written. The console uses it to refuse an add of an entry already on
	// record, an edit of one that is not, and an import whose plan is no
	// longer the one the administrator was shown (ExpectCreated,
	// ExpectOnRecord, ExpectDigest).
	Confirm func(Plan) error
}

// errDryRun rolls back a dry run's transaction once the plan is known.
var errDryRun = errors.New("catalogue: dry run")

// Apply compares c with what storage holds and writes the difference in one
// transaction, with one audit event (catalogue.apply, detail = counts) when
// anything changed; an apply that changes nothing writes nothing. It
// refuses, writing nothing, when the file names a department or type that
// neither it nor storage holds, or changes the field schema of a type that
// has licences in a way that would break them (see checkSchema). The plan
// is computed inside the transaction, so it is exactly what was written.
func Apply(ctx context.Context, tx TxFunc, c Catalogue, opts Options) (Plan, error) {
	if opts.Actor == "" {
		return Plan{}, errors.New("catalogue: apply: no audit actor")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Object == "" {
		opts.Object = "catalogue"
	}
	var plan Plan
	err := tx(ctx, func(r Repository) error {
		snap, err := loadSnapshot(ctx, r)
		if err != nil {
			return err
		}
		plan, err = makePlan(snap, c, opts.CreateOnly)
		if opts.Confirm != nil {
			if err := opts.Confirm(plan); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		if !plan.Changed() {
			return nil
		}
		if err := write(ctx, r, snap, c, plan); err != nil {
			return err
		}
		_, err = r.AppendAudit(ctx, audit.Event{At: opts.Now(), Actor: opts.Actor, Action: "catalogue.apply",
			Object: opts.Object, Detail: plan.Summary()})
		return err
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return Plan{}, err
	}
	return plan, nil
}

// snapshot is the catalogue as storage holds it.
type snapshot struct {
	depts     map[string]licence.Department // by USCC
	types     map[string]licence.Type       // by code
	typeNames map[string]string             // name → code
	issuers   map[string][]string           // type code → sorted USCCs
	usage     map[int64]map[string][]string // department id → type code → purposes
	counts    map[string]int64              // type code → licences on file
}

func loadSnapshot(ctx context.Context, r Repository) (snapshot, error) {
	s := snapshot{depts: map[string]licence.Department{}, types: map[string]licence.Type{}, typeNames: map[string]string{},
		usage: map[int64]map[string][]string{}}
	depts, err := r.Departments(ctx)
	if err != nil {
		return s, fmt.Errorf("catalogue: %w", err)
	}
	for _, d := range depts {
		s.depts[d.USCC] = d
	}
	types, err := r.Types(ctx)
	if err != nil {
		return s, fmt.Errorf("catalogue: %w", err)
	}
	for _, t := range types {
		s.types[t.Code] = t
		s.typeNames[t.Name] = t.Code
	}
	if s.issuers, err = r.TypeIssuers(ctx); err != nil {
		return s, fmt.Errorf("catalogue: %w", err)
	}
	lists, err := r.UsageLists(ctx)
	if err != nil {
		return s, fmt.Errorf("catalogue: %w", err)
	}
	for _, e := range lists {
		if s.usage[e.DepartmentID] == nil {
			s.usage[e.DepartmentID] = map[string][]string{}
		}
		s.usage[e.DepartmentID][e.TypeCode] = e.Purposes
	}
	if s.counts, err = r.LicenceCountsByType(ctx); err != nil {
		return s, fmt.Errorf("catalogue: %w", err)
	}
	return s, nil
}

// makePlan decides the action of every entry and checks what the file
// alone could not: references to storage, names taken by other types, and
// schema changes against licences on file. With problems it returns them
// beside the plan, for Confirm to see; such a plan is never written.
func makePlan(s snapshot, c Catalogue, createOnly bool) (Plan, error) {
	v := &validator{}
	var plan Plan
	inFile := map[string]licence.Department{}
	for _, d := range c.Departments {
		inFile[d.USCC] = d
		ch := Change{Kind: KindDepartment, Key: d.USCC, Name: d.Name, Action: Created}
		if old, ok := s.depts[d.USCC]; ok && createOnly {
			ch.Action = Unchanged
		} else if ok {
			var w what
			w.note("name", old.Name != d.Name)
			w.note("kind", old.Kind != d.Kind)
			w.note("area_code", old.AreaCode != d.AreaCode)
			ch.What, ch.Action = w, w.action()
		}
		plan.Changes = append(plan.Changes, ch)
	}
	known := func(uscc string) (string, bool) {
		if d, ok := inFile[uscc]; ok {
			return d.Name, true
		}
		d, ok := s.depts[uscc]
		return d.Name, ok
	}
	typesInFile := map[string]string{}
	for i, t := range c.Types {
		entry := fmt.Sprintf("types[%d] %s (%s)", i, t.Name, t.Code)
		typesInFile[t.Code] = t.Name
		for j, u := range t.Issuers {
			if _, ok := known(u); !ok {
				v.add(entry, fmt.Sprintf("issuers[%d]", j), "unknown department %s (not in the file, not on record)", u)
			}
		}
		if other, ok := s.typeNames[t.Name]; ok && other != t.Code {
			v.add(entry, "name", "%q is already the name of licence type %s", t.Name, other)
		}
		ch := Change{Kind: KindType, Key: t.Code, Name: t.Name, Action: Created}
		if old, ok := s.types[t.Code]; ok && createOnly {
			ch.Action = Unchanged
		} else if ok {
			var w what
			w.note("name", old.Name != t.Name)
			w.note("holder_kind", old.HolderKind != t.HolderKind)
			w.note("validity_years", old.ValidityYears != t.ValidityYears)
			w.note("reminder_stages", !slices.Equal(old.ReminderStages, t.ReminderStages))
			w.note("face_template", old.FaceTemplate != t.FaceTemplate)
			w.note("fields", !slices.Equal(old.Fields, t.Fields))
			w.note("issuers", !slices.Equal(s.issuers[t.Code], t.Issuers))
			ch.What, ch.Action = w, w.action()
			if n := s.counts[t.Code]; n > 0 {
				checkSchema(v, entry, n, old, t.Type)
			}
		}
		plan.Changes = append(plan.Changes, ch)
	}
	for i, u := range c.UsageLists {
		entry := fmt.Sprintf("usage_lists[%d] (department %s)", i, u.DepartmentUSCC)
		deptName, ok := known(u.DepartmentUSCC)
		if !ok {
			v.add(entry, "department", "unknown department %s (not in the file, not on record)", u.DepartmentUSCC)
			continue
		}
		var current map[string][]string
		if d, ok := s.depts[u.DepartmentUSCC]; ok {
			current = s.usage[d.ID]
		}
		listed := map[string]bool{}
		for j, e := range u.Entries {
			typeName, ok := typesInFile[e.TypeCode]
			if !ok {
				t, onRecord := s.types[e.TypeCode]
				if !onRecord {
					v.add(entry, fmt.Sprintf("types[%d].type", j), "unknown licence type %s (not in the file, not on record)", e.TypeCode)
				}
				typeName = t.Name
			}
			listed[e.TypeCode] = true
			ch := Change{Kind: KindUsageList, Key: u.DepartmentUSCC + "/" + e.TypeCode, Name: deptName + " / " + typeName, Action: Created}
			if old, ok := current[e.TypeCode]; ok && createOnly {
				ch.Action = Unchanged
			} else if ok {
				var w what
				w.note("purposes", !slices.Equal(old, e.Purposes))
				ch.What, ch.Action = w, w.action()
			}
			plan.Changes = append(plan.Changes, ch)
		}
		for _, code := range sortedKeys(current) {
			if !listed[code] && !createOnly {
				plan.Changes = append(plan.Changes, Change{Kind: KindUsageList, Key: u.DepartmentUSCC + "/" + code,
					Name: deptName + " / " + s.types[code].Name, Action: Removed})
			}
		}
	}
	if len(v.problems) > 0 {
		return plan, &Error{Problems: v.problems}
	}
	return plan, nil
}

// checkSchema refuses a change to a type with licences on file that would
// make some of them unreadable or invalid: a field key they may carry is
// removed or changes type, a field becomes required (old licences lack
// it), or the holder kind changes. Labels, masking, the basic scope, order,
// and new optional fields are free to change. The rule is conservative: it
// does not open the sealed faces to see which keys are actually used.
func checkSchema(v *validator, entry string, n int64, old, t licence.Type) {
	if old.HolderKind != t.HolderKind {
		v.add(entry, "holder_kind", "cannot change from %s: %d licence(s) of this type are on file", old.HolderKind, n)
	}
	oldFields := map[string]licence.Field{}
	for _, f := range old.Fields {
		oldFields[f.Key] = f
	}
	newKeys := map[string]bool{}
	for i, f := range t.Fields {
		newKeys[f.Key] = true
		was, existed := oldFields[f.Key]
		switch {
		case existed && was.Type != f.Type:
			v.add(entry, fmt.Sprintf("fields[%d].type", i), "cannot change %s from %s to %s: %d licence(s) of this type are on file", f.Key, was.Type, f.Type, n)
		case f.Required && (!existed || !was.Required):
			v.add(entry, fmt.Sprintf("fields[%d].required", i), "cannot make %s required: %d licence(s) of this type are on file without that rule", f.Key, n)
		}
	}
	for _, f := range old.Fields {
		if !newKeys[f.Key] {
			v.add(entry, "fields", "cannot remove field %s: %d licence(s) of this type are on file and may carry it", f.Key, n)
		}
	}
}

// write applies plan. Entries the plan leaves unchanged are not touched.
func write(ctx context.Context, r Repository, s snapshot, c Catalogue, plan Plan) error {
	action := map[string]Action{}
	for _, ch := range plan.Changes {
		action[ch.Kind+"\x00"+ch.Key] = ch.Action
	}
	ids := map[string]int64{}
	for uscc, d := range s.depts {
		ids[uscc] = d.ID
	}
	for _, d := range c.Departments {
		switch action[KindDepartment+"\x00"+d.USCC] {
		case Created:
			created, err := r.CreateDepartment(ctx, d)
			if err != nil {
				return fmt.Errorf("catalogue: %w", err)
			}
			ids[d.USCC] = created.ID
		case Updated:
			if err := r.UpdateDepartment(ctx, d); err != nil {
				return fmt.Errorf("catalogue: %w", err)
			}
		}
	}
	for _, t := range c.Types {
		var err error
		switch action[KindType+"\x00"+t.Code] {
		case Created:
			err = r.CreateType(ctx, t.Type)
		case Updated:
			err = r.UpdateType(ctx, t.Type)
		default:
			continue
		}
		if err == nil && !slices.Equal(s.issuers[t.Code], t.Issuers) {
			issuerIDs := make([]int64, len(t.Issuers))
			for i, u := range t.Issuers {
				issuerIDs[i] = ids[u]
			}
			err = r.SetTypeIssuers(ctx, t.Code, issuerIDs)
		}
		if err != nil {
			return fmt.Errorf("catalogue: %w", err)
		}
	}
	for _, u := range c.UsageLists {
		dept := ids[u.DepartmentUSCC]
		for _, e := range u.Entries {
			if a := action[KindUsageList+"\x00"+u.DepartmentUSCC+"/"+e.TypeCode]; a == Created || a == Updated {
				if err := r.SetUsageList(ctx, dept, e.TypeCode, e.Purposes); err != nil {
					return fmt.Errorf("catalogue: %w", err)
				}
			}
		}
	}
	for _, ch := range plan.Changes {
		if ch.Kind == KindUsageList && ch.Action == Removed {
			uscc, code, _ := strings.Cut(ch.Key, "/")
			if err := r.RemoveFromUsageList(ctx, ids[uscc], code); err != nil {
				return fmt.Errorf("catalogue: %w", err)
			}
		}
	}
	return nil
}

// what collects the attributes an update changes.
type what []string

func (w *what) note(attr string, changed bool) {
	if changed {
		*w = append(*w, attr)
	}
}

// action is Updated when anything changes, Unchanged otherwise.
func (w what) action() Action {
	if len(w) > 0 {
		return Updated
	}
	return Unchanged
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
