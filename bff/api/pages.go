package api

import (
	"bytes"
	"html/template"
	"mime"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// retryLoginPath starts a fresh login that lands on the home page.
const retryLoginPath = "/api/v1/auth/wechat/login?next=/"

// pageCSP lets the error page use its own inline style and nothing else: no
// script, no external asset, no form, no framing.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// loginErrorPage is the page a citizen sees when a login step fails in the
// WeChat browser. html/template escapes everything put into it.
var loginErrorPage = template.Must(template.New("login-error").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录未成功</title>
<style>
body{margin:0;padding:32px 20px;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;font-size:20px;line-height:1.6;color:#222;background:#f7f8fa}
main{max-width:32em;margin:0 auto;background:#fff;border-radius:12px;padding:28px 22px}
h1{font-size:26px;margin:0 0 16px}
p{margin:0 0 16px}
a.button{display:block;margin-top:24px;padding:14px;border-radius:8px;background:#1989fa;color:#fff;text-align:center;text-decoration:none;font-size:22px}
</style>
</head>
<body>
<main>
<h1>登录未成功</h1>
<p>{{.Message}}</p>
{{if .Retry}}<a class="button" href="{{.Retry}}">重新登录</a>
{{else}}<p>请关闭本页面，从公众号菜单重新打开本服务。</p>
{{end}}</main>
</body>
</html>
`))

// respondLoginError answers a failed login step. API clients get the JSON
// error body as everywhere else; a browser navigation (the citizen in the
// WeChat browser) gets the same status with a page saying what went wrong
// in plain words and how to try again.
func respondLoginError(c *gin.Context, err error) {
	c.Header("Vary", "Accept")
	if !prefersHTML(c.GetHeader("Accept")) {
		respondError(c, err)
		return
	}
	pub := mapError(err)
	if pub.Status >= 500 {
		_ = c.Error(err)
	}
	data := struct{ Message, Retry string }{Message: pub.Message, Retry: retryLoginPath}
	if pub.Code == "snapshot_user" {
		data.Retry = "" // logging in again from the same snapshot page fails again
	}
	var buf bytes.Buffer
	if tplErr := loginErrorPage.Execute(&buf, data); tplErr != nil {
		_ = c.Error(tplErr)
		respondError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", pageCSP)
	c.Data(pub.Status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// prefersHTML reports whether an Accept header ranks text/html above
// application/json, taking q-values and the most specific matching range
// into account. A missing header, */* or a tie keeps JSON, so API clients
// never get a page they did not ask for.
func prefersHTML(accept string) bool {
	return acceptQ(accept, "text", "html") > acceptQ(accept, "application", "json")
}

// acceptQ is the q-value an Accept header gives typ/sub: that of the most
// specific range that matches it, 0 when none does.
func acceptQ(accept, typ, sub string) float64 {
	q, best := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		t, s, _ := strings.Cut(mt, "/")
		spec := -1
		switch {
		case t == typ && s == sub:
			spec = 2
		case t == typ && s == "*":
			spec = 1
		case t == "*" && s == "*":
			spec = 0
		}
		if spec <= best {
			continue
		}
		v := 1.0
		if qs, ok := params["q"]; ok {
			if v, err = strconv.ParseFloat(qs, 64); err != nil || v < 0 || v > 1 {
				continue
			}
		}
		q, best = v, spec
	}
	return q
}
