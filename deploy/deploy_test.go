// Package deploy_test checks the single-host deploy kit (Dockerfile,
// .dockerignore, docker-compose.yml, nginx) for the properties operators rely
// on. No Docker engine runs in the tests, so this reads the files as Docker
// would and checks what can be known without one.
package deploy_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type compose struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Restart     string         `yaml:"restart"`
		Command     []string       `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Deploy struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
		Ports []string `yaml:"ports"`
		Build struct {
			Args map[string]string `yaml:"args"`
		} `yaml:"build"`
	} `yaml:"services"`
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestComposeStack: MySQL on the 8.4 LTS line, every long-running service
// restarts by itself, migrations run once before two BFF replicas, and only
// nginx is published, as the one proxy the BFF trusts.
func TestComposeStack(t *testing.T) {
	var c compose
	if err := yaml.Unmarshal([]byte(readFile(t, "docker-compose.yml")), &c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mysql", "redis", "migrate", "bff", "nginx"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no %s service", name)
		}
	}
	if img := c.Services["mysql"].Image; img != "mysql:8.4" && !strings.HasPrefix(img, "mysql:8.4.") {
		t.Errorf("mysql image %q, want the 8.4 LTS line", img)
	}
	for name, s := range c.Services {
		want := "unless-stopped"
		if name == "migrate" {
			want = "no"
		}
		if s.Restart != want {
			t.Errorf("%s: restart %q, want %q", name, s.Restart, want)
		}
	}
	if cmd := c.Services["migrate"].Command; len(cmd) == 0 || cmd[0] != "migrate" {
		t.Errorf("migrate service runs %v", cmd)
	}
	bff := c.Services["bff"]
	if bff.Deploy.Replicas < 2 {
		t.Errorf("bff: %d replicas, want at least 2", bff.Deploy.Replicas)
	}
	if bff.DependsOn["migrate"].Condition != "service_completed_successfully" {
		t.Errorf("bff must wait for migrate to complete, waits for %+v", bff.DependsOn)
	}
	if len(bff.Ports) > 0 {
		t.Errorf("bff publishes %v: only nginx may be reachable", bff.Ports)
	}
	trusted, _ := bff.Environment["ELICENCE_HTTP_TRUSTED_PROXIES"].(string)
	if !strings.Contains(trusted, "PROXY_ADDR") || !strings.HasSuffix(trusted, "/32") {
		t.Errorf("bff must trust exactly nginx's address, trusts %q", trusted)
	}
	for _, arg := range []string{"GOPROXY", "NPM_REGISTRY"} {
		if v := c.Services["bff"].Build.Args[arg]; v != "${"+arg+":-}" {
			t.Errorf("build arg %s = %q, want it passed from .env and empty by default", arg, v)
		}
	}
	if len(c.Services["nginx"].Ports) != 1 {
		t.Errorf("nginx ports %v", c.Services["nginx"].Ports)
	}
}

// TestNginxPassesClientAddress: gzip on, and X-Forwarded-For replaced by the
// address nginx saw (appending would let a client choose its own address).
func TestNginxPassesClientAddress(t *testing.T) {
	conf := readFile(t, "nginx/nginx.conf")
	for _, want := range []string{"gzip on;", "proxy_set_header X-Forwarded-For $remote_addr;", "proxy_pass $bff;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if strings.Contains(conf, "$proxy_add_x_forwarded_for") {
		t.Error("nginx.conf appends to a client-sent X-Forwarded-For")
	}
}

// TestImageBuild: nothing local reaches the build context, the runtime user
// is not root, the image checks its own health, and mirrors are build
// arguments that default to the tools' own settings.
func TestImageBuild(t *testing.T) {
	var ignored []string
	sc := bufio.NewScanner(strings.NewReader(readFile(t, "../.dockerignore")))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			ignored = append(ignored, line)
		}
	}
	for _, want := range []string{"**/node_modules", "data", "deploy/.env", ".git", "miniapp/dist"} {
		if !slices.Contains(ignored, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	df := readFile(t, "Dockerfile")
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
		t.Errorf("the runtime stage must run as a non-root user, USER lines %v", users)
	}
	if !regexp.MustCompile(`(?ms)^HEALTHCHECK .*?CMD \["/app/bff", "healthcheck"`).MatchString(df) {
		t.Error("no HEALTHCHECK running bff healthcheck")
	}
	for _, arg := range []string{"GOPROXY", "GOSUMDB", "NPM_REGISTRY"} {
		if !strings.Contains(df, "ARG "+arg+`=""`) {
			t.Errorf("Dockerfile: want ARG %s with an empty default", arg)
		}
	}
}
