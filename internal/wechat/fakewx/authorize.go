package fakewx

import (
	"html/template"
	"net/http"
	"net/url"
)

// authorize is GET /connect/oauth2/authorize. Without fake_openid it shows
// the demo-user picker; with it, it redirects at once to
// redirect_uri?code=…&state=… as WeChat does after the user agrees.
// fake_snapshot=1 makes the chosen user a snapshot-page virtual account.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	redirect, problem := s.checkAuthorize(q)
	if problem != "" {
		s.renderPage(w, http.StatusBadRequest, pageData{Error: problem})
		return
	}
	openid := q.Get("fake_openid")
	if openid == "" {
		s.renderPage(w, http.StatusOK, s.pickerData(q))
		return
	}
	if !openidRE.MatchString(openid) {
		s.renderPage(w, http.StatusBadRequest, pageData{Error: "openid 只能由字母、数字、- 和 _ 组成，最长 64 位。"})
		return
	}
	code := randomString("FAKECODE", 16)
	s.mu.Lock()
	s.codes[code] = &authCode{
		openid:   openid,
		scope:    q.Get("scope"),
		snapshot: s.byID[openid].Snapshot || q.Get("fake_snapshot") == "1",
		exp:      s.now().Add(codeLifetime),
	}
	s.mu.Unlock()

	rq := redirect.Query()
	rq.Set("code", code)
	rq.Set("state", q.Get("state"))
	redirect.RawQuery = rq.Encode()
	redirect.Fragment = ""
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// checkAuthorize applies WeChat's checks and returns the parsed redirect_uri,
// or the reason (shown to the user, in Chinese) why the page refuses.
func (s *Server) checkAuthorize(q url.Values) (*url.URL, string) {
	if q.Get("appid") == "" || (s.appID != "" && q.Get("appid") != s.appID) {
		return nil, "appid 参数错误（40013）。"
	}
	if q.Get("response_type") != "code" {
		return nil, "response_type 参数错误，应为 code。"
	}
	if sc := q.Get("scope"); sc != "snsapi_base" && sc != "snsapi_userinfo" {
		return nil, "scope 参数错误（10005），应为 snsapi_base 或 snsapi_userinfo。"
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "redirect_uri 参数错误（10003）。"
	}
	if s.base != nil && (u.Scheme != s.base.Scheme || u.Host != s.base.Host) {
		return nil, "redirect_uri 域名与后台配置不一致（10003）。"
	}
	return u, ""
}

type pageUser struct {
	Label    string
	OpenID   string
	Snapshot bool
	Href     string
}

type pageField struct{ Name, Value string }

type pageData struct {
	Error  string
	Users  []pageUser
	Hidden []pageField
}

func (s *Server) pickerData(q url.Values) pageData {
	var d pageData
	for _, name := range []string{"appid", "redirect_uri", "response_type", "scope", "state"} {
		d.Hidden = append(d.Hidden, pageField{Name: name, Value: q.Get(name)})
	}
	for _, u := range s.users {
		link := url.Values{}
		for _, f := range d.Hidden {
			link.Set(f.Name, f.Value)
		}
		link.Set("fake_openid", u.OpenID)
		label := u.Label
		if label == "" {
			label = u.OpenID
		}
		d.Users = append(d.Users, pageUser{Label: label, OpenID: u.OpenID, Snapshot: u.Snapshot, Href: "?" + link.Encode()})
	}
	return d
}

func (s *Server) renderPage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d)
}

var pageTmpl = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>模拟微信授权</title>
<style>
body{margin:0;background:#ededed;color:#111;font:18px/1.6 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif}
header{background:#07c160;color:#fff;padding:16px;font-size:20px}
main{max-width:560px;margin:0 auto;padding:16px}
ul{list-style:none;margin:0;padding:0}
li a{display:block;margin:10px 0;padding:14px 16px;background:#fff;border-radius:8px;color:#111;text-decoration:none}
li a small{display:block;color:#777;font-size:15px;word-break:break-all}
.snap{color:#d93025}
form{margin-top:20px;padding:14px 16px;background:#fff;border-radius:8px}
input[type=text]{box-sizing:border-box;width:100%;margin:8px 0;padding:10px;font-size:18px;border:1px solid #bbb;border-radius:6px}
button{width:100%;margin-top:10px;padding:12px;font-size:18px;color:#fff;background:#07c160;border:0;border-radius:6px}
.note{color:#666;font-size:15px}
.err{padding:14px 16px;background:#fff;border-left:4px solid #d93025;border-radius:4px}
</style>
</head>
<body>
<header>模拟微信授权（开发环境）</header>
<main>
{{- if .Error}}
<div class="err" role="alert"><p>{{.Error}}</p></div>
{{- else}}
<p>阳城政务服务 申请获取你的微信身份标识（openid）。请选择一位演示用户继续：</p>
<ul>
{{- range .Users}}
<li><a href="{{.Href}}">{{.Label}}{{if .Snapshot}} <span class="snap">（快照页虚拟账号，应被拒绝）</span>{{end}}<small>{{.OpenID}}</small></a></li>
{{- end}}
</ul>
<form method="get">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<label>或输入任意 openid：<input type="text" name="fake_openid" pattern="[A-Za-z0-9_\-]{1,64}" required autocomplete="off"></label>
<label><input type="checkbox" name="fake_snapshot" value="1"> 作为快照页虚拟账号</label>
<button type="submit">以此身份授权</button>
</form>
{{- end}}
<p class="note">这是模拟的微信授权页，仅用于开发和测试；正式环境由微信客户端完成授权。</p>
</main>
</body>
</html>
`))
