package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Counter counts events under a key in a fixed window (redisx.Counter).
type Counter interface {
	Add(ctx context.Context, key string, window time.Duration) (int, error)
}

// MintLimit bounds how many show codes one holder mints per Window. A
// person showing licences needs a handful an hour; a script minting
// thousands would fill Redis and drown the usage statistics.
type MintLimit struct {
	Counter Counter
	// Key builds the full Redis key (redisx.Client.Key).
	Key    func(parts ...string) string
	Max    int
	Window time.Duration
}

var errMintLimited = &publicError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "亮证码生成太频繁,请稍后再试"}

// perHolder is the middleware; it runs after requireHolder.
func (m MintLimit) perHolder(c *gin.Context) {
	if m.Max <= 0 {
		return
	}
	p, _ := principalFrom(c)
	n, err := m.Counter.Add(c.Request.Context(), m.Key("rl", "mint", strconv.FormatInt(p.HolderID, 10)), m.Window)
	if err != nil {
		respondError(c, dependencyFailure("mint counter", err))
		return
	}
	if n > m.Max {
		respondError(c, errMintLimited)
	}
}
