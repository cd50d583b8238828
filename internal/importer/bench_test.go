package importer_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// benchRows is 100,000 unless ELICENCE_IMPORT_BENCH_ROWS says otherwise
// (a quicker look while working on the import).
var benchRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("ELICENCE_IMPORT_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// BenchmarkImport imports 100,000 rows (a new holder and a new 不动产权证书
// each) into MariaDB, beside a floor that writes the same rows with bare
// multi-row INSERTs through database/sql: holders, licences and their
// history lines, 500 rows per statement, one transaction per batch, with
// every value sealed and indexed beforehand, outside its timer. The import
// adds what the floor leaves out: reading and validating the CSV, sealing
// and indexing, looking up existing licences and holders, reading back the
// holders' ids, and the audit event of each batch.
//
// The two are paired batch by batch: each time the import has written a
// batch, the floor writes its next batch (into a database of its own on the
// same server), timed apart and subtracted from the import's time. Load
// from elsewhere on a shared machine then hits both alike. It reports both
// rates and their ratio (x-floor, the import's rate over the floor's); its
// ns/op and B/op cover the two together.
func BenchmarkImport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "stock.csv")
	rows := benchStock(benchRows)
	writeCSV(b, path, rows)
	var importSecs, floorSecs float64
	for b.Loop() {
		b.StopTimer()
		floor := newFloor(b, rows)
		st := storetest.Seeded(b, store.DriverMySQL, benchDSN(b), time.Now())
		im, err := importer.New(st, storetest.SealDemo(b, st, nil).Signing)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		sum, err := im.ImportFile(context.Background(), demo.USCCRealEstateCentre, path, importer.Options{Progress: floor})
		total := time.Since(start).Seconds()
		if err != nil || sum.Imported != benchRows {
			b.Fatalf("import: %+v %v", sum, err)
		}
		if floor.next < len(rows) {
			b.Fatalf("floor wrote %d rows of %d", floor.next, len(rows))
		}
		importSecs += total - floor.secs
		floorSecs += floor.secs
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

// benchDSN is a fresh MariaDB database with the connection settings of
// production (configs/production.example.yaml): client-side parameter
// interpolation, so a statement is one round trip, not prepare, execute and
// close. ELICENCE_IMPORT_BENCH_PREPARED=1 keeps the driver's default.
func benchDSN(b *testing.B) string {
	dsn := storetest.DSN(b, store.DriverMySQL)
	if os.Getenv("ELICENCE_IMPORT_BENCH_PREPARED") == "1" {
		return dsn
	}
	cfg, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.InterpolateParams = true
	return cfg.FormatDSN()
}

// floor writes the benchmark's rows with bare multi-row INSERTs. It is the
// import's Progress: after each of the import's batches it writes as many
// rows as the import has, timing only its own writes.
type floor struct {
	b        *testing.B
	db       *sql.DB
	holders  [][]any
	licences [][]any
	now      time.Time
	next     int // first row not written yet
	secs     float64
}

// newFloor opens a fresh seeded database and seals and indexes every row,
// outside the timers.
func newFloor(b *testing.B, rows [][]string) *floor {
	dsn := benchDSN(b)
	st := storetest.Seeded(b, store.DriverMySQL, dsn, time.Now())
	dept, err := st.DepartmentByUSCC(context.Background(), demo.USCCRealEstateCentre)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sealer := storetest.Sealer()
	seal := func(field, v string) string {
		s, err := sealer.Encrypt(field, v)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	f := &floor{b: b, db: db, now: time.Now().UTC(), holders: make([][]any, len(rows)), licences: make([][]any, len(rows))}
	for i, r := range rows {
		f.holders[i] = []any{"person", r[2], r[3], seal("holder.id_number", r[4]), sealer.BlindIndex("holder.id_number", r[4]),
			seal("holder.phone", r[5]), f.now}
		numIdx := sealer.BlindIndex("licence.number", r[0]+"\x00"+r[1])
		id, err := ident.LicenceIdentifier(r[0], dept.USCC, fmt.Sprintf("FL%d", i), 1)
		if err != nil {
			b.Fatal(err)
		}
		f.licences[i] = []any{id, seal("licence.number", r[1]), numIdx, r[0], int64(0), dept.ID, r[6], r[7], nil,
			"valid", "[]", 1, seal("licence.face", r[9]), "", f.now, f.now}
	}
	return f
}

func (f *floor) Start(int) {}
func (f *floor) Finish()   {}

// Update writes the floor's rows up to done, batch by batch.
func (f *floor) Update(done int) {
	start := time.Now()
	for f.next < min(done, len(f.holders)) {
		f.batch(f.next, min(f.next+importer.DefaultBatchSize, len(f.holders)))
		f.next = min(f.next+importer.DefaultBatchSize, len(f.holders))
	}
	f.secs += time.Since(start).Seconds()
}

// batch writes rows lo..hi-1: holders, licences, history, one transaction.
func (f *floor) batch(lo, hi int) {
	ctx, b := context.Background(), f.b
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, multiInsert("holders", "kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at", 7, hi-lo), flat(f.holders[lo:hi])...)
	if err != nil {
		b.Fatal(err)
	}
	first, _ := res.LastInsertId() // consecutive under InnoDB's default lock mode
	for i := lo; i < hi; i++ {
		f.licences[i][4] = first + int64(i-lo)
	}
	res, err = tx.ExecContext(ctx, multiInsert("licences", "identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, "+
		"valid_until, status, annotations, version, face_enc, seal, created_at, updated_at", 16, hi-lo), flat(f.licences[lo:hi])...)
	if err != nil {
		b.Fatal(err)
	}
	firstLicence, _ := res.LastInsertId()
	events := make([][]any, hi-lo)
	for i := range events {
		id := firstLicence + int64(i)
		events[i] = []any{id, id, 1, "import", "", "valid", "[]", "", "cli:import", f.now, f.now}
	}
	if _, err := tx.ExecContext(ctx, multiInsert("licence_events", "lineage_id, licence_id, version, action, from_status, to_status, annotations, reason, actor, effective_at, at", 11, hi-lo), flat(events)...); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
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
