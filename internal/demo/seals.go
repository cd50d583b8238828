package demo

import (
	"context"
	"fmt"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// SealRegistry is the part of the seal registry seeding uses.
type SealRegistry interface {
	Seals(ctx context.Context) ([]seal.Seal, error)
	Apply(ctx context.Context, actor string, a seal.Application) (seal.Seal, error)
	Transition(ctx context.Context, actor string, id int64, req seal.Request) (seal.Seal, error)
}

// Certify returns a certificate (DER) for a new key of a seal named name:
// the local CA's in embedded mode.
type Certify func(name string) ([]byte, error)

// SeedSeals gives every issuing department of the demo catalogue an active
// 法定名称章 named after it and approved for every type it issues, and the
// administering bureau its platform seal (approved for no licence type).
// Each goes through the whole lifecycle (apply, approve, issue, activate),
// audited like any other. A department that has a seal already, in any
// state, is left alone, so a restart adds nothing.
func SeedSeals(ctx context.Context, reg SealRegistry, depts interface {
	DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error)
}, certify Certify) (created int, err error) {
	c, err := Catalogue()
	if err != nil {
		return 0, err
	}
	existing, err := reg.Seals(ctx)
	if err != nil {
		return 0, err
	}
	has := map[int64]bool{}
	for _, s := range existing {
		has[s.DepartmentID] = true
	}
	types := map[string][]string{}
	for _, t := range c.Types {
		issuers := t.Issuers
		if len(issuers) == 0 {
			issuers = []string{t.Code[:18]}
		}
		for _, u := range issuers {
			types[u] = append(types[u], t.Code)
		}
	}
	for _, d := range c.Departments {
		if d.Kind != licence.DeptIssuer && d.Kind != licence.DeptAdmin {
			continue
		}
		dept, err := depts.DepartmentByUSCC(ctx, d.USCC)
		if err != nil {
			return created, fmt.Errorf("demo: seal of %s: %w", d.USCC, err)
		}
		if has[dept.ID] {
			continue
		}
		if err := seedSeal(ctx, reg, dept, types[d.USCC], certify); err != nil {
			return created, fmt.Errorf("demo: seal of %s: %w", d.USCC, err)
		}
		created++
	}
	return created, nil
}

func seedSeal(ctx context.Context, reg SealRegistry, dept licence.Department, types []string, certify Certify) error {
	s, err := reg.Apply(ctx, Actor, seal.Application{Name: dept.Name, Kind: seal.KindOfficial, Department: dept, Types: types})
	if err != nil {
		return err
	}
	if _, err := reg.Transition(ctx, Actor, s.ID, seal.Request{Action: seal.ActionApprove}); err != nil {
		return err
	}
	cert, err := certify(s.Name)
	if err != nil {
		return err
	}
	if _, err := reg.Transition(ctx, Actor, s.ID, seal.Request{Action: seal.ActionIssue, Cert: cert}); err != nil {
		return err
	}
	_, err = reg.Transition(ctx, Actor, s.ID, seal.Request{Action: seal.ActionActivate})
	return err
}
