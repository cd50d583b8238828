package wechat_test

import (
	"context"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/wechat"
)

func TestRedisCacheSemantics(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			rdb, prefix := be.open(t)
			c, err := wechat.NewRedisCache(rdb, prefix)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			t.Run("miss is untyped nil", func(t *testing.T) {
				if v := c.Get("absent"); v != nil {
					t.Fatalf("Get(absent) = %#v, want untyped nil", v)
				}
				if c.IsExist("absent") {
					t.Fatal("IsExist(absent) = true")
				}
			})

			t.Run("string round trip under prefix", func(t *testing.T) {
				if err := c.Set("k1", "v1", time.Hour); err != nil {
					t.Fatal(err)
				}
				if v, ok := c.Get("k1").(string); !ok || v != "v1" {
					t.Fatalf("Get(k1) = %#v, want string v1", c.Get("k1"))
				}
				if raw, err := rdb.Get(ctx, prefix+"k1").Result(); err != nil || raw != "v1" {
					t.Fatalf("raw key %s = %q, %v", prefix+"k1", raw, err)
				}
				if !c.IsExist("k1") {
					t.Fatal("IsExist(k1) = false")
				}
				if ttl := rdb.PTTL(ctx, prefix+"k1").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
					t.Fatalf("TTL = %s, want about 1h", ttl)
				}
			})

			t.Run("bytes stored as string", func(t *testing.T) {
				if err := c.SetContext(ctx, "kb", []byte("vb"), time.Hour); err != nil {
					t.Fatal(err)
				}
				if v, ok := c.GetContext(ctx, "kb").(string); !ok || v != "vb" {
					t.Fatalf("Get(kb) = %#v", c.GetContext(ctx, "kb"))
				}
			})

			t.Run("unsupported type refused", func(t *testing.T) {
				if err := c.Set("kx", 42, time.Hour); err == nil {
					t.Fatal("Set(int) succeeded")
				}
			})

			for _, tc := range []struct {
				name string
				ttl  time.Duration
			}{
				{"zero ttl clamped", 0},
				{"negative ttl clamped", -90 * time.Second},
				{"sub-second ttl clamped", time.Microsecond},
			} {
				t.Run(tc.name, func(t *testing.T) {
					key := "clamp-" + tc.name
					if err := c.Set(key, "v", tc.ttl); err != nil {
						t.Fatal(err)
					}
					ttl := rdb.PTTL(ctx, prefix+key).Val()
					if ttl <= 0 || ttl > wechat.MinCacheTTL {
						t.Fatalf("TTL after Set(%s) = %s, want in (0, %s]", tc.ttl, ttl, wechat.MinCacheTTL)
					}
				})
			}

			t.Run("delete", func(t *testing.T) {
				if err := c.Set("kd", "v", time.Hour); err != nil {
					t.Fatal(err)
				}
				if err := c.Delete("kd"); err != nil {
					t.Fatal(err)
				}
				if v := c.Get("kd"); v != nil {
					t.Fatalf("Get after Delete = %#v", v)
				}
				if err := c.Delete("kd"); err != nil {
					t.Fatalf("second Delete: %v", err)
				}
			})
		})
	}
}

func TestNewRedisCacheRejectsBadInput(t *testing.T) {
	rdb, _ := miniRedis(t)
	if _, err := wechat.NewRedisCache(nil, "p:"); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := wechat.NewRedisCache(rdb, ""); err == nil {
		t.Error("empty prefix accepted")
	}
}
