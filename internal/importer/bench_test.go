package importer_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

const benchRows = 100_000

// BenchmarkImport imports 100,000 rows (a new holder and a new 不动产权证书
// each) into MariaDB, beside a floor that writes the same rows with bare
// multi-row INSERTs through database/sql: holders, licences and their
// history lines, 500 rows per statement, one transaction per batch, with
// every value sealed and indexed beforehand, outside its timer. The import
// adds what the floor leaves out: reading and validating the CSV, sealing
// and indexing, looking up existing licences and holders, reading back the
// new ids, and the audit event of each batch. Each operation runs both, on
// fresh databases, in alternating order, and reports both rates and their
// ratio (x-floor, the import's rate over the floor's).
func BenchmarkImport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "stock.csv")
	rows := benchStock(benchRows)
	writeCSV(b, path, rows)
	var importSecs, floorSecs float64
	for i := 0; b.Loop(); i++ {
		imp := func() { importSecs += benchImportOnce(b, path) }
		floor := func() { floorSecs += benchFloorOnce(b, rows) }
		if i%2 == 0 {
			imp()
			floor()
		} else {
			floor()
			imp()
		}
	}
	n := float64(b.N * benchRows)
	b.ReportMetric(n/importSecs, "import-rows/s")
	b.ReportMetric(n/floorSecs, "floor-rows/s")
	b.ReportMetric(floorSecs/importSecs, "x-floor")
}

// benchStock is n good rows, each with its own holder.
func benchStock(n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		name := "持证人" + fmt.Sprint(i)
		fields, _ := json.Marshal(map[string]string{"right_holder": name, "location": fmt.Sprintf("阳城县凤城镇滨河小区%d号楼", i), "area": "118.56㎡", "usage": "住宅"})
		out[i] = []string{demo.TypeRealEstateTitle, fmt.Sprintf("晋(2019)阳城县不动产权第%07d号", i), name, "111", residentID(i),
			fmt.Sprintf("139%08d", i), "2019-06-01", "2019-06-01", "", string(fields)}
	}
	return out
}

func benchImportOnce(b *testing.B, path string) float64 {
	b.StopTimer()
	st := storetest.Seeded(b, store.DriverMySQL, storetest.DSN(b, store.DriverMySQL), time.Now())
	im, err := importer.New(st)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	sum, err := im.ImportFile(context.Background(), demo.USCCRealEstateCentre, path, importer.Options{})
	secs := time.Since(start).Seconds()
	if err != nil || sum.Imported != benchRows {
		b.Fatalf("import: %+v %v", sum, err)
	}
	return secs
}

// benchFloorOnce writes rows with bare multi-row INSERTs and returns the
// seconds it took, sealing excluded.
func benchFloorOnce(b *testing.B, rows [][]string) float64 {
	b.StopTimer()
	dsn := storetest.DSN(b, store.DriverMySQL)
	st := storetest.Seeded(b, store.DriverMySQL, dsn, time.Now())
	dept, err := st.DepartmentByUSCC(context.Background(), demo.USCCRealEstateCentre)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sealer := storetest.Sealer()
	seal := func(field, v string) string {
		s, err := sealer.Encrypt(field, v)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	now := time.Now().UTC()
	holders := make([][]any, len(rows))
	licences := make([][]any, len(rows))
	for i, r := range rows {
		holders[i] = []any{"person", r[2], r[3], seal("holder.id_number", r[4]), sealer.BlindIndex("holder.id_number", r[4]),
			seal("holder.phone", r[5]), now}
		numIdx := sealer.BlindIndex("licence.number", r[0]+"\x00"+r[1])
		id, err := ident.LicenceIdentifier(r[0], dept.USCC, fmt.Sprintf("FL%d", i), 1)
		if err != nil {
			b.Fatal(err)
		}
		licences[i] = []any{id, seal("licence.number", r[1]), numIdx, r[0], int64(0), dept.ID, r[6], r[7], nil,
			"valid", "[]", 1, seal("licence.face", r[9]), "", now, now}
	}
	ctx := context.Background()
	b.StartTimer()
	start := time.Now()
	for lo := 0; lo < len(rows); lo += importer.DefaultBatchSize {
		hi := min(lo+importer.DefaultBatchSize, len(rows))
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := tx.ExecContext(ctx, multiInsert("holders", "kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at", 7, hi-lo), flat(holders[lo:hi])...)
		if err != nil {
			b.Fatal(err)
		}
		first, _ := res.LastInsertId() // consecutive under InnoDB's default lock mode
		for i := lo; i < hi; i++ {
			licences[i][4] = first + int64(i-lo)
		}
		res, err = tx.ExecContext(ctx, multiInsert("licences", "identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, "+
			"valid_until, status, annotations, version, face_enc, seal, created_at, updated_at", 16, hi-lo), flat(licences[lo:hi])...)
		if err != nil {
			b.Fatal(err)
		}
		firstLicence, _ := res.LastInsertId()
		events := make([][]any, hi-lo)
		for i := range events {
			id := firstLicence + int64(i)
			events[i] = []any{id, id, 1, "import", "", "valid", "[]", "", "cli:import", now, now}
		}
		if _, err := tx.ExecContext(ctx, multiInsert("licence_events", "lineage_id, licence_id, version, action, from_status, to_status, annotations, reason, actor, effective_at, at", 11, hi-lo), flat(events)...); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start).Seconds()
}

func multiInsert(table, cols string, ncols, nrows int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", ncols), ",") + ")"
	return "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+",", nrows), ",")
}

func flat(rows [][]any) []any {
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
