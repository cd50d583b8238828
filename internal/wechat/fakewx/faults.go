package fakewx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault makes the next Count calls of one endpoint misbehave. The Delay is
// served first (cut short if the client goes away); then HTTPStatus, if set,
// is answered with an empty body, else ErrCode, if set, as WeChat's JSON
// error. A fault with only a Delay lets the call proceed afterwards, which is
// how a reply lost to a client timeout after WeChat already acted looks.
//
// JSON form: {"path":"/cgi-bin/message/template/send","errcode":45009,
// "errmsg":"…","http_status":500,"delay_ms":1500,"count":1}.
type Fault struct {
	Path       string        // endpoint path, with or without MountPath
	ErrCode    int           // WeChat errcode to answer
	ErrMsg     string        // errmsg; WeChat's text for ErrCode when empty
	HTTPStatus int           // HTTP status to answer instead of 200
	Delay      time.Duration // wait before answering
	Count      int           // calls affected; 0 means 1
}

type faultJSON struct {
	Path       string `json:"path"`
	ErrCode    int    `json:"errcode,omitempty"`
	ErrMsg     string `json:"errmsg,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	DelayMS    int64  `json:"delay_ms,omitempty"`
	Count      int    `json:"count,omitempty"`
}

// MarshalJSON writes the JSON form described on Fault.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{
		Path: f.Path, ErrCode: f.ErrCode, ErrMsg: f.ErrMsg, HTTPStatus: f.HTTPStatus,
		DelayMS: f.Delay.Milliseconds(), Count: f.Count,
	})
}

// UnmarshalJSON reads the JSON form described on Fault; unknown fields are
// an error so a typo does not inject a fault that does nothing.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{
		Path: j.Path, ErrCode: j.ErrCode, ErrMsg: j.ErrMsg, HTTPStatus: j.HTTPStatus,
		Delay: time.Duration(j.DelayMS) * time.Millisecond, Count: j.Count,
	}
	return nil
}

// InjectFault queues f for its endpoint; faults on one endpoint apply in the
// order they were injected.
func (s *Server) InjectFault(f Fault) error {
	f.Path = strings.TrimPrefix(f.Path, MountPath)
	if !s.knownEndpoint(f.Path) {
		return fmt.Errorf("fakewx: fault path %q is not a fake WeChat endpoint", f.Path)
	}
	if f.ErrCode == 0 && f.HTTPStatus == 0 && f.Delay <= 0 {
		return errors.New("fakewx: fault needs errcode, http_status or delay")
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 300 || f.HTTPStatus > 599) {
		return fmt.Errorf("fakewx: fault http_status %d is not 300-599", f.HTTPStatus)
	}
	if f.Delay < 0 || f.Delay > maxFaultDelay {
		return fmt.Errorf("fakewx: fault delay must be 0-%s", maxFaultDelay)
	}
	if f.Count < 0 {
		return errors.New("fakewx: fault count is negative")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.ErrCode != 0 && f.ErrMsg == "" {
		f.ErrMsg = errMsgs[f.ErrCode]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[f.Path] = append(s.faults[f.Path], &f)
	return nil
}

// ResetFaults drops every pending fault.
func (s *Server) ResetFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = make(map[string][]*Fault)
}

// PendingFaults lists the faults not yet used up, Count being what is left.
func (s *Server) PendingFaults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Fault{}
	for _, list := range s.faults {
		for _, f := range list {
			out = append(out, *f)
		}
	}
	return out
}

// applyFault serves the next fault for path, if any, and reports whether it
// answered the request.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, path string) bool {
	s.mu.Lock()
	list := s.faults[path]
	if len(list) == 0 {
		s.mu.Unlock()
		return false
	}
	f := *list[0]
	list[0].Count--
	if list[0].Count <= 0 {
		s.faults[path] = list[1:]
	}
	s.mu.Unlock()

	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch {
	case f.HTTPStatus != 0:
		w.WriteHeader(f.HTTPStatus)
		return true
	case f.ErrCode != 0:
		writeJSON(w, http.StatusOK, map[string]any{"errcode": f.ErrCode, "errmsg": f.ErrMsg})
		return true
	}
	return false
}
