// Package k8s_test renders the Kubernetes manifests of this directory with
// kustomize, as `kubectl apply -k` would, decodes every object strictly into
// the Kubernetes API types (an unknown or misspelt field fails) and checks
// the invariants the service relies on when it runs as N replicas. No
// cluster runs in the tests; this is what can be known without one.
//
// It is a test-only package: kustomize and the API types never reach the
// server binary.
package k8s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/yangcheng-county/elicence/internal/config"
)

// manifest is the rendered output, by kind.
type manifest struct {
	Namespaces      []*corev1.Namespace
	ServiceAccounts []*corev1.ServiceAccount
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	Services        []*corev1.Service
	Deployments     []*appsv1.Deployment
	PDBs            []*policyv1.PodDisruptionBudget
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	Jobs            []*batchv1.Job
	CronJobs        []*batchv1.CronJob
	NetworkPolicies []*networkingv1.NetworkPolicy
	Claims          []*corev1.PersistentVolumeClaim
}

// render runs kustomize on dir and decodes what it produces.
func render(t *testing.T, dir string) *manifest {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := &manifest{}
	for _, r := range res.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.add(raw); err != nil {
			t.Fatalf("%s/%s: %v", r.GetKind(), r.GetName(), err)
		}
	}
	return m
}

// add decodes one object strictly into its API type.
func (m *manifest) add(raw []byte) error {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return err
	}
	strict := func(into any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			return fmt.Errorf("%s %s: %w", meta.APIVersion, meta.Kind, err)
		}
		return nil
	}
	switch meta.APIVersion + " " + meta.Kind {
	case "v1 Namespace":
		return decodeInto(strict, &m.Namespaces)
	case "v1 ServiceAccount":
		return decodeInto(strict, &m.ServiceAccounts)
	case "v1 ConfigMap":
		return decodeInto(strict, &m.ConfigMaps)
	case "v1 Secret":
		return decodeInto(strict, &m.Secrets)
	case "v1 Service":
		return decodeInto(strict, &m.Services)
	case "v1 PersistentVolumeClaim":
		return decodeInto(strict, &m.Claims)
	case "apps/v1 Deployment":
		return decodeInto(strict, &m.Deployments)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(strict, &m.PDBs)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeInto(strict, &m.HPAs)
	case "batch/v1 Job":
		return decodeInto(strict, &m.Jobs)
	case "batch/v1 CronJob":
		return decodeInto(strict, &m.CronJobs)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeInto(strict, &m.NetworkPolicies)
	}
	return fmt.Errorf("kind %s %s is not checked by this test: add it", meta.APIVersion, meta.Kind)
}

func decodeInto[T any](strict func(any) error, into *[]*T) error {
	v := new(T)
	if err := strict(v); err != nil {
		return err
	}
	*into = append(*into, v)
	return nil
}

// workload is a pod template with the name of what runs it.
type workload struct {
	name string
	pod  *corev1.PodSpec
}

func (m *manifest) workloads() []workload {
	var ws []workload
	for _, d := range m.Deployments {
		ws = append(ws, workload{"Deployment/" + d.Name, &d.Spec.Template.Spec})
	}
	for _, j := range m.Jobs {
		ws = append(ws, workload{"Job/" + j.Name, &j.Spec.Template.Spec})
	}
	for _, c := range m.CronJobs {
		ws = append(ws, workload{"CronJob/" + c.Name, &c.Spec.JobTemplate.Spec.Template.Spec})
	}
	return ws
}

// shutdownGrace is http.shutdown_grace of the configuration in the image.
const shutdownGrace = 20

// Where the configuration in the image looks for the seals' keys
// (seals.key_dir) and its CA certificate (seals.ca_cert_file).
const (
	sealKeyDir = "/var/lib/elicence/seals"
	sealCAFile = "/etc/elicence/seal-ca.pem"
)

// checkpointDir is audit.checkpoint_dir of the configuration in the image.
const checkpointDir = "/srv/elicence-checkpoints"

// check returns every broken invariant.
func (m *manifest) check() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(m.Deployments) != 1 {
		bad("want exactly one Deployment, got %d", len(m.Deployments))
		return errs
	}
	d := m.Deployments[0]
	podLabels := labels.Set(d.Spec.Template.Labels)
	if sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels); !sel.Matches(podLabels) {
		bad("Deployment selector does not match its pods")
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		bad("Deployment: want at least 2 replicas")
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		bad("Deployment: want one container")
		return errs
	}
	c := d.Spec.Template.Spec.Containers[0]
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
			bad("Deployment: %s probe must GET %s", name, path)
			return
		}
		if !hasPort(c, p.HTTPGet.Port) {
			bad("Deployment: %s probe port %s is not a container port", name, p.HTTPGet.Port.String())
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	drain := int64(0)
	switch {
	case c.Lifecycle == nil || c.Lifecycle.PreStop == nil:
		bad("Deployment: no preStop drain")
	case c.Lifecycle.PreStop.Sleep != nil:
		drain = c.Lifecycle.PreStop.Sleep.Seconds
	}
	if drain < 5 {
		bad("Deployment: preStop must wait at least 5 s for endpoints to be removed, waits %d s", drain)
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < drain+shutdownGrace+5 {
		bad("Deployment: terminationGracePeriodSeconds must cover preStop (%d s) + shutdown_grace (%d s) + margin", drain, shutdownGrace)
	}
	if env(c, "ELICENCE_REMINDER_ENABLED") != "false" {
		bad("Deployment: serving pods must not run the reminder scheduler (ELICENCE_REMINDER_ENABLED=false); the CronJob sends")
	}

	image := c.Image
	for _, w := range m.workloads() {
		sc := w.pod.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			bad("%s: pod must set runAsNonRoot", w.name)
		}
		if w.pod.AutomountServiceAccountToken == nil || *w.pod.AutomountServiceAccountToken {
			bad("%s: must not mount a service account token", w.name)
		}
		for _, c := range w.pod.Containers {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Limits[r]; !ok {
					bad("%s/%s: no %s limit", w.name, c.Name, r)
				}
				if _, ok := c.Resources.Requests[r]; !ok {
					bad("%s/%s: no %s request", w.name, c.Name, r)
				}
			}
			if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
				bad("%s/%s: must set allowPrivilegeEscalation: false", w.name, c.Name)
			}
			if c.Image != image {
				bad("%s/%s: image %q differs from the Deployment's %q (one release, one image)", w.name, c.Name, c.Image, image)
			}
		}
	}

	// serve and remind compose the whole service, which signs and checks
	// with the seals: without their keys and CA they do not start.
	for _, w := range m.workloads() {
		for _, c := range w.pod.Containers {
			if len(c.Args) == 0 || (c.Args[0] != "serve" && c.Args[0] != "remind") {
				continue
			}
			for _, want := range []string{sealKeyDir, path.Dir(sealCAFile)} {
				if !mountsReadOnly(c, want) {
					bad("%s/%s: must mount %s read-only (the seals' keys and CA)", w.name, c.Name, want)
				}
			}
		}
	}

	// Every serving replica appends signed checkpoints to one file: a
	// writable volume, shared by all of them.
	var shared string
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == checkpointDir && !vm.ReadOnly {
			shared = vm.Name
		}
	}
	claim := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == shared && v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	rwx := false
	for _, pvc := range m.Claims {
		if pvc.Name == claim && slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
			rwx = true
		}
	}
	if !rwx {
		bad("Deployment: %s must be a writable ReadWriteMany volume shared by the replicas (audit checkpoints)", checkpointDir)
	}

	reminders := 0
	for _, w := range m.workloads() {
		for _, c := range w.pod.Containers {
			if len(c.Args) > 0 && c.Args[0] == "remind" {
				reminders++
			}
		}
	}
	if len(m.CronJobs) != 1 || reminders != 1 {
		bad("want exactly one reminder workload, a CronJob; got %d CronJobs and %d workloads running remind", len(m.CronJobs), reminders)
	} else {
		cj := m.CronJobs[0]
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			bad("CronJob/%s: concurrencyPolicy must be Forbid", cj.Name)
		}
		if args := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args[:min(2, len(args))], []string{"remind", "--once"}) {
			bad("CronJob/%s: must run `remind --once`, runs %v", cj.Name, args)
		}
		if cj.Spec.TimeZone == nil || *cj.Spec.TimeZone == "" {
			bad("CronJob/%s: set timeZone (the node's zone is not the county's)", cj.Name)
		}
	}
	migrates := 0
	for _, j := range m.Jobs {
		for _, c := range j.Spec.Template.Spec.Containers {
			if len(c.Args) > 0 && c.Args[0] == "migrate" {
				migrates++
			}
		}
		if p := j.Spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
			bad("Job/%s: restartPolicy %q", j.Name, p)
		}
	}
	if migrates != 1 {
		bad("want one Job running migrate, got %d", migrates)
	}

	if len(m.PDBs) != 1 {
		bad("want one PodDisruptionBudget, got %d", len(m.PDBs))
	} else {
		p := m.PDBs[0]
		if sel := labels.SelectorFromSet(p.Spec.Selector.MatchLabels); len(p.Spec.Selector.MatchLabels) == 0 || !sel.Matches(podLabels) {
			bad("PodDisruptionBudget/%s does not select the Deployment's pods", p.Name)
		}
		replicas := int32(2)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		switch {
		case p.Spec.MaxUnavailable != nil:
			if p.Spec.MaxUnavailable.Type != intstr.Int || p.Spec.MaxUnavailable.IntVal < 1 || p.Spec.MaxUnavailable.IntVal >= replicas {
				bad("PodDisruptionBudget/%s: maxUnavailable must be 1..replicas-1", p.Name)
			}
		case p.Spec.MinAvailable != nil:
			if p.Spec.MinAvailable.Type != intstr.Int || p.Spec.MinAvailable.IntVal < 1 || p.Spec.MinAvailable.IntVal >= replicas {
				bad("PodDisruptionBudget/%s: minAvailable must be 1..replicas-1", p.Name)
			}
		default:
			bad("PodDisruptionBudget/%s: neither minAvailable nor maxUnavailable", p.Name)
		}
	}
	if len(m.HPAs) != 1 {
		bad("want one HorizontalPodAutoscaler, got %d", len(m.HPAs))
	} else {
		h := m.HPAs[0]
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name {
			bad("HorizontalPodAutoscaler/%s scales %s/%s, not the Deployment", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			bad("HorizontalPodAutoscaler/%s: minReplicas must be at least 2 and at most maxReplicas", h.Name)
		}
	}
	for _, s := range m.Services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) || len(s.Spec.Selector) == 0 {
			bad("Service/%s does not select the Deployment's pods", s.Name)
		}
		for _, p := range s.Spec.Ports {
			if !hasPort(c, p.TargetPort) {
				bad("Service/%s: targetPort %s is not a container port", s.Name, p.TargetPort.String())
			}
		}
	}
	if len(m.Services) == 0 {
		bad("no Service in front of the Deployment")
	}
	errs = append(errs, m.checkNetwork(podLabels, c)...)
	errs = append(errs, m.checkConfig()...)
	return errs
}

// checkNetwork: a default deny, and the BFF reachable on its port.
func (m *manifest) checkNetwork(podLabels labels.Set, c corev1.Container) []error {
	var errs []error
	denyAll, bffIngress, bffEgress := false, false, false
	for _, np := range m.NetworkPolicies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("NetworkPolicy/%s: %w", np.Name, err))
			continue
		}
		types := np.Spec.PolicyTypes
		if sel.Empty() && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 &&
			slices.Contains(types, networkingv1.PolicyTypeIngress) && slices.Contains(types, networkingv1.PolicyTypeEgress) {
			denyAll = true
		}
		if !sel.Matches(podLabels) || sel.Empty() {
			continue
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && hasPort(c, *p.Port) {
					bffIngress = true
				}
			}
		}
		if len(np.Spec.Egress) > 0 {
			bffEgress = true
		}
	}
	if !denyAll {
		errs = append(errs, fmt.Errorf("no default-deny NetworkPolicy (ingress and egress)"))
	}
	if !bffIngress {
		errs = append(errs, fmt.Errorf("no NetworkPolicy lets traffic reach the BFF's port"))
	}
	if !bffEgress {
		errs = append(errs, fmt.Errorf("no NetworkPolicy lets the BFF reach its stores"))
	}
	return errs
}

// checkConfig: every ConfigMap reference resolves, every secret comes from
// the one Secret the operator creates (none is rendered: no secret lives in
// the repository), every ELICENCE_ variable names a real setting, and the
// resulting configuration loads.
func (m *manifest) checkConfig() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(m.Secrets) > 0 {
		bad("a Secret is rendered from the repository; secrets are created by the operator")
	}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, cm := range m.ConfigMaps {
		configMaps[cm.Name] = cm
	}
	known := settingNames(reflect.TypeFor[config.Config](), "ELICENCE")
	for _, w := range m.workloads() {
		for _, c := range w.pod.Containers {
			vars := map[string]string{}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef == nil {
					bad("%s/%s: envFrom only from ConfigMaps", w.name, c.Name)
					continue
				}
				cm, ok := configMaps[ef.ConfigMapRef.Name]
				if !ok {
					bad("%s/%s: ConfigMap %q is not rendered", w.name, c.Name, ef.ConfigMapRef.Name)
					continue
				}
				for k, v := range cm.Data {
					vars[k] = v
				}
			}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					vars[e.Name] = e.Value
				case e.ValueFrom.SecretKeyRef != nil:
					if e.ValueFrom.SecretKeyRef.Name != "elicence-secrets" {
						bad("%s/%s: %s from Secret %q, want elicence-secrets", w.name, c.Name, e.Name, e.ValueFrom.SecretKeyRef.Name)
					}
					vars[e.Name] = placeholderSecret(e.Name)
				default:
					bad("%s/%s: %s: only values and secretKeyRef are used", w.name, c.Name, e.Name)
				}
			}
			for name := range vars {
				if !known[name] {
					bad("%s/%s: %s is not a setting (misspelt?)", w.name, c.Name, name)
				}
			}
			if _, err := config.Load("../../configs/production.example.yaml", func(k string) (string, bool) {
				v, ok := vars[k]
				return v, ok
			}); err != nil {
				bad("%s/%s: the configuration does not load: %v", w.name, c.Name, err)
			}
		}
	}
	return errs
}

// placeholderSecret is a well-formed stand-in for a secret the operator sets.
func placeholderSecret(name string) string {
	switch name {
	case "ELICENCE_DATABASE_DSN":
		return "elicence:pw@tcp(mysql:3306)/elicence?parseTime=true&loc=UTC"
	case "ELICENCE_SECURITY_DATA_KEY":
		return strings.Repeat("ab", 16)
	case "ELICENCE_SECURITY_INDEX_KEY":
		return strings.Repeat("cd", 32)
	case "ELICENCE_WECHAT_ENCODING_AES_KEY", "ELICENCE_SECURITY_PREVIOUS_DATA_KEY", "ELICENCE_SECURITY_PREVIOUS_INDEX_KEY",
		"ELICENCE_SECURITY_LEGACY_DATA_KEY", "ELICENCE_SECURITY_LEGACY_INDEX_KEY":
		return "" // optional: absent unless a rotation is under way
	}
	return "secret"
}

// settingNames lists the ELICENCE_ variables the configuration reads,
// walking the same yaml tags config.Load does.
func settingNames(t reflect.Type, prefix string) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			for n := range settingNames(f.Type, name) {
				names[n] = true
			}
			continue
		}
		names[name] = true
	}
	return names
}

func hasPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && p.StrVal == cp.Name && cp.Name != "") || (p.Type == intstr.Int && p.IntVal == cp.ContainerPort) {
			return true
		}
	}
	return false
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestManifestsValidate renders deploy/k8s and checks every invariant.
func TestManifestsValidate(t *testing.T) {
	m := render(t, ".")
	if len(m.Namespaces) != 1 || len(m.NetworkPolicies) == 0 || len(m.ConfigMaps) == 0 {
		t.Fatalf("rendered too little: %d namespaces, %d network policies, %d config maps", len(m.Namespaces), len(m.NetworkPolicies), len(m.ConfigMaps))
	}
	for _, err := range m.check() {
		t.Error(err)
	}
}

// TestChecksCatchBrokenManifests breaks one invariant at a time on the
// rendered objects: each must be reported, or the checks above prove nothing.
func TestChecksCatchBrokenManifests(t *testing.T) {
	for name, breakIt := range map[string]func(m *manifest){
		"one replica": func(m *manifest) { one := int32(1); m.Deployments[0].Spec.Replicas = &one },
		"no preStop":  func(m *manifest) { m.Deployments[0].Spec.Template.Spec.Containers[0].Lifecycle = nil },
		"readiness on /healthz": func(m *manifest) {
			m.Deployments[0].Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/healthz"
		},
		"no memory limit": func(m *manifest) {
			delete(m.Jobs[0].Spec.Template.Spec.Containers[0].Resources.Limits, corev1.ResourceMemory)
		},
		"overlapping reminders": func(m *manifest) { m.CronJobs[0].Spec.ConcurrencyPolicy = batchv1.AllowConcurrent },
		"scheduler in every pod": func(m *manifest) {
			setEnv(&m.Deployments[0].Spec.Template.Spec.Containers[0], "ELICENCE_REMINDER_ENABLED", "true")
		},
		"misspelt setting":    func(m *manifest) { m.ConfigMaps[0].Data["ELICENCE_HTTP_TRUSTED_PROXY"] = "10.0.0.0/8" },
		"unloadable setting":  func(m *manifest) { m.ConfigMaps[0].Data["ELICENCE_DATABASE_DRIVER"] = "oracle" },
		"PDB selects nothing": func(m *manifest) { m.PDBs[0].Spec.Selector.MatchLabels = map[string]string{"app": "other"} },
		"HPA below two":       func(m *manifest) { one := int32(1); m.HPAs[0].Spec.MinReplicas = &one },
		"no default deny":     func(m *manifest) { m.NetworkPolicies = m.NetworkPolicies[1:] },
		"root allowed":        func(m *manifest) { m.CronJobs[0].Spec.JobTemplate.Spec.Template.Spec.SecurityContext = nil },
		"secret in the repo":  func(m *manifest) { m.Secrets = append(m.Secrets, &corev1.Secret{}) },
		"short grace": func(m *manifest) {
			g := int64(15)
			m.Deployments[0].Spec.Template.Spec.TerminationGracePeriodSeconds = &g
		},
	} {
		m := render(t, ".")
		if m.NetworkPolicies[0].Name != "default-deny" {
			t.Fatalf("this test expects default-deny first, got %s", m.NetworkPolicies[0].Name)
		}
		breakIt(m)
		if len(m.check()) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value = value
		}
	}
}

// TestStrictDecodingRejectsUnknownFields: a misspelt field (here
// readinessProbes) must fail, not be dropped as lenient decoding would.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	doc := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: c
          image: i
          readinessProbes: {httpGet: {path: /readyz, port: 8080}}
`
	raw, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&manifest{}).add(raw); err == nil || !strings.Contains(err.Error(), "readinessProbes") {
		t.Fatalf("misspelt field accepted: %v", err)
	}
	fixed := strings.Replace(doc, "readinessProbes", "readinessProbe", 1)
	if raw, err = yaml.YAMLToJSON([]byte(fixed)); err != nil {
		t.Fatal(err)
	}
	if err := (&manifest{}).add(raw); err != nil {
		t.Fatalf("well-formed Deployment refused: %v", err)
	}
}

// mountsReadOnly reports whether c mounts a volume read-only at dir.
func mountsReadOnly(c corev1.Container, dir string) bool {
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == dir && vm.ReadOnly {
			return true
		}
	}
	return false
}
