package showcode_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

const benchContent = "https://elicence.yangcheng.gov.cn/v/q83vEjRWeJq83vEjRWeJqw"

// perOp is what one benchmark run cost per operation, kept so a later
// benchmark in the same run can report its ratio to a floor.
type perOp struct{ ns, bytes float64 }

// measure runs op b.N times and returns its cost per operation, counting
// allocated bytes the way -benchmem does.
func measure(b *testing.B, op func() error) perOp {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	return perOp{
		ns:    float64(b.Elapsed().Nanoseconds()) / float64(b.N),
		bytes: float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N),
	}
}

// qrFloor is the last result of BenchmarkQRDefault in this run.
var qrFloor perOp

// BenchmarkQRDefault is the floor to beat: skip2/go-qrcode's own PNG path
// at the same recovery level and about the same size.
func BenchmarkQRDefault(b *testing.B) {
	b.ReportAllocs()
	qrFloor = measure(b, func() error {
		_, err := qrcode.Encode(benchContent, qrcode.Medium, showcode.DefaultQRSize)
		return err
	})
}

// BenchmarkQRFast is the renderer the service uses, data URI included. Run
// after BenchmarkQRDefault it reports its cost as a fraction of the floor's.
func BenchmarkQRFast(b *testing.B) {
	r := showcode.NewRenderer(showcode.DefaultQRSize)
	b.ReportAllocs()
	got := measure(b, func() error {
		_, err := r.DataURI(benchContent)
		return err
	})
	if qrFloor.ns > 0 {
		b.ReportMetric(got.ns/qrFloor.ns, "x-default-ns")
		b.ReportMetric(got.bytes/qrFloor.bytes, "x-default-B")
	}
}

// BenchmarkQRBitmap is the part no renderer can avoid: building the symbol
// and choosing its mask.
func BenchmarkQRBitmap(b *testing.B) {
	b.ReportAllocs()
	measure(b, func() error {
		q, err := qrcode.New(benchContent, qrcode.Medium)
		if err != nil {
			return err
		}
		_ = q.Bitmap()
		return nil
	})
}

// BenchmarkShowCodeMint measures minting a code on the real test Redis
// beside two floors doing the same work with bare calls: "floor" is a
// go-redis SET of the hashed token's record with its TTL plus skip2's
// default PNG as a data URI; "floor-io" is the SET alone.
func BenchmarkShowCodeMint(b *testing.B) {
	rc := redistest.Open(b)
	st, err := redisx.NewShowCodeStore(rc)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := showcode.NewService(st, showcode.Options{PublicURL: "https://elicence.yangcheng.gov.cn", TTL: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rdb := rc.Redis()
	set := func() (string, error) {
		var raw [16]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", err
		}
		token := base64.RawURLEncoding.EncodeToString(raw[:])
		v, err := json.Marshal(map[string]any{"licence_id": 12, "holder_id": 3, "scope": "basic", "exp": time.Now().Add(time.Minute).UnixMilli()})
		if err != nil {
			return "", err
		}
		return token, rdb.SetNX(ctx, rc.Key("sc", showcode.Hash(token)), v, time.Minute).Err()
	}

	var floor, floorIO perOp
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		floor = measure(b, func() error {
			token, err := set()
			if err != nil {
				return err
			}
			png, err := qrcode.Encode("https://elicence.yangcheng.gov.cn/v/"+token, qrcode.Medium, showcode.DefaultQRSize)
			_ = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
			return err
		})
	})
	b.Run("floor-io", func(b *testing.B) {
		b.ReportAllocs()
		floorIO = measure(b, func() error {
			_, err := set()
			return err
		})
	})
	b.Run("mint", func(b *testing.B) {
		b.ReportAllocs()
		got := measure(b, func() error {
			_, err := svc.Mint(ctx, 3, 12, showcode.ScopeBasic)
			return err
		})
		if floor.ns > 0 && floorIO.ns > 0 {
			b.ReportMetric(got.ns/floor.ns, "x-floor-ns")
			b.ReportMetric(got.bytes/floor.bytes, "x-floor-B")
			b.ReportMetric(got.ns/floorIO.ns, "x-floor-io-ns")
		}
	})
}
