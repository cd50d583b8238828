package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// sealActions maps the command's subcommands to lifecycle actions.
var sealActions = map[string]string{
	"approve": seal.ActionApprove, "refuse": seal.ActionRefuse, "issue": seal.ActionIssue,
	"activate": seal.ActionActivate, "renew": seal.ActionRenew, "cancel": seal.ActionCancel,
	"report-lost": seal.ActionReportLost,
}

// cmdSeal operates the seal registry until the console does: each
// subcommand is one registry call, audited as cli:seal, and prints the seal
// as one JSON line (docs/SEALS.md).
func cmdSeal(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("seal: want a subcommand\n%w", errUsage)
	}
	sub, rest := args[0], args[1:]
	var (
		id                              int64
		uscc, name, kind, types         string
		reason, certFile, keyFile, lost string
	)
	cfg, err := commonFlags("seal "+sub, rest, lookupEnv, func(fs *flag.FlagSet) {
		fs.Int64Var(&id, "id", 0, "seal id")
		fs.StringVar(&uscc, "department", "", "USCC of the department applying")
		fs.StringVar(&name, "name", "", "name on the seal (the certificate's subject)")
		fs.StringVar(&kind, "kind", string(seal.KindOfficial), "official | internal | business | name")
		fs.StringVar(&types, "types", "", "licence type codes the seal may sign, comma separated")
		fs.StringVar(&reason, "reason", "", "why (refuse, cancel)")
		fs.StringVar(&certFile, "cert", "", "PEM certificate from the CA (issue, renew; production)")
		fs.StringVar(&keyFile, "key", "", "PEM private key of the certificate (issue, renew; production)")
		fs.StringVar(&lost, "lost-at", "", "when the seal was lost, RFC 3339 (report-lost; default now)")
	})
	if err != nil {
		return err
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := openSeals(ctx, cfg, st)
	if err != nil {
		return err
	}
	actor := audit.ActorCLI("seal " + sub)
	enc := json.NewEncoder(stdout)
	switch sub {
	case "list":
		seals, err := s.Registry.Seals(ctx)
		if err != nil {
			return err
		}
		for _, se := range seals {
			if err := enc.Encode(sealJSON(se)); err != nil {
				return err
			}
		}
		return nil
	case "apply":
		dept, err := st.DepartmentByUSCC(ctx, uscc)
		if err != nil {
			return fmt.Errorf("seal apply: department %q: %w", uscc, err)
		}
		se, err := s.Registry.Apply(ctx, actor, seal.Application{Name: name, Kind: seal.Kind(kind), Department: dept, Types: splitList(types)})
		if err != nil {
			return err
		}
		return enc.Encode(sealJSON(se))
	case "sign-unsigned":
		signed, skipped, err := st.SignUnsigned(ctx, s.Signing, actor, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signed %d, left unsigned %d (no active seal approved for their type)\n", signed, skipped)
		return nil
	}
	action, ok := sealActions[sub]
	if !ok || id == 0 {
		return fmt.Errorf("seal: unknown subcommand %q or missing --id\n%w", sub, errUsage)
	}
	req := seal.Request{Action: action, Reason: reason}
	if lost != "" {
		at, err := time.Parse(time.RFC3339, lost)
		if err != nil {
			return fmt.Errorf("seal report-lost: --lost-at: %w", err)
		}
		req.LostAt = &at
	}
	if action == seal.ActionIssue || action == seal.ActionRenew {
		if req.Cert, err = sealCertificate(ctx, s, id, certFile, keyFile); err != nil {
			return err
		}
	}
	se, err := s.Registry.Transition(ctx, actor, id, req)
	if err != nil {
		return err
	}
	return enc.Encode(sealJSON(se))
}

// openSeals opens the seals for an operator command and, in production,
// checks that every signing seal's key is at hand, as serve does at
// start-up.
func openSeals(ctx context.Context, cfg config.Config, st *store.Store) (*wire.Seals, error) {
	s, err := wire.OpenSeals(cfg, st, time.Now)
	if err != nil {
		return nil, err
	}
	return s, s.CheckKeys(ctx)
}

// sealCertificate is the DER certificate to bind to seal id: from the CA's
// files (its key goes into the keyring), or from the local CA.
func sealCertificate(ctx context.Context, s *wire.Seals, id int64, certFile, keyFile string) ([]byte, error) {
	if certFile == "" && keyFile == "" {
		se, err := s.Registry.Seal(ctx, id)
		if err != nil {
			return nil, err
		}
		return s.LocalCertificate(se.Name, time.Now())
	}
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("seal: --cert and --key go together\n%w", errUsage)
	}
	raw, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	cert, err := seal.ParseCertificatePEM(raw)
	if err != nil {
		return nil, err
	}
	if raw, err = os.ReadFile(keyFile); err != nil {
		return nil, err
	}
	key, err := seal.ParsePrivateKeyPEM(raw)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("seal: %s is not the key of %s", keyFile, certFile)
	}
	if err := s.Keys.Import(key); err != nil {
		return nil, err
	}
	return cert.Raw, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sealOut is a seal as the command prints it.
type sealOut struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Department string   `json:"department"`
	State      string   `json:"state"`
	Types      []string `json:"types"`
	Reason     string   `json:"reason,omitempty"`
	NotAfter   string   `json:"cert_not_after,omitempty"`
	LostAt     string   `json:"lost_at,omitempty"`
}

func sealJSON(s seal.Seal) sealOut {
	o := sealOut{ID: s.ID, Name: s.Name, Kind: string(s.Kind), Department: s.Department, State: string(s.State),
		Types: s.Types, Reason: s.Reason}
	if s.Cert != nil {
		o.NotAfter = s.Cert.NotAfter.Format(time.RFC3339)
	}
	if s.LostAt != nil {
		o.LostAt = s.LostAt.Format(time.RFC3339)
	}
	return o
}
