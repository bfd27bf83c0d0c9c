package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

func civilStatus() console.Service {
	return console.Service{
		ID: "MA/GOV/ETATCIVIL/civil-status", Provider: "MA/GOV/ETATCIVIL", ProviderName: "Civil registry",
		Description: "Birth, marriage and death records.",
		Purposes:    []string{"social-benefit", "school-enrolment"},
		Operations: []console.Operation{{
			Path: "/citizens/{cin}", Summary: "A citizen's civil status",
			Params: []console.Param{
				{Name: "cin", In: "path", Required: true, Description: "National identity card number", Pattern: "^[A-Z]{1,2}[0-9]{5,6}$"},
				{Name: "record", In: "query", Enum: []string{"birth", "marriage", "death"}},
			},
		}, {
			Path: "/certificates/{number}", Summary: "A certificate by its number", // the parameter is not declared
		}},
	}
}

func schoolRecords() console.Service {
	return console.Service{ID: "MA/GOV/MASSAR/school-records", Provider: "MA/GOV/MEN", ProviderName: "Éducation nationale",
		Description: "Pupils' enrolment and results."}
}

const citizen = `{"cin":"AB123456","first_name":"Amina","last_name":"El Idrissi","birth_date":"1990-04-12","alive":true,"spouse":null,
"address":{"street":"12 rue des Oliviers","city":"Rabat","postal_code":10000},
"children":[{"first_name":"Youssef","birth_date":"2015-09-01"},{"first_name":"Salma","birth_date":"2018-02-20","school":"Ibn Battuta"}],
"nationalities":["MA","FR"]}`

func answer(body string) *console.LookupResult {
	return &console.LookupResult{RequestID: "01J9Z6R2M4", Service: "MA/GOV/ETATCIVIL/civil-status", Provider: "MA/GOV/ETATCIVIL",
		At: now.Add(-2 * time.Second), Duration: 312 * time.Millisecond, Status: 200, ContentType: "application/json", Body: []byte(body)}
}

// lookupConsole is a clerk's console on the Lookup tab.
func lookupConsole(t *testing.T, s *stub) (*Console, *timers) {
	t.Helper()
	if s.who == nil {
		s.who = clerk()
	}
	if s.status == nil {
		s.status = connected()
	}
	c, ts := newTestConsole(t, s)
	c.tabs.SelectIndex(1)
	return c, ts
}

// fillCivilStatus chooses the civil status service and fills its form.
func fillCivilStatus(t *testing.T, c *Console) *lookupForm {
	t.Helper()
	c.lookup.list.Select(0)
	f := c.lookup.form
	if f == nil {
		t.Fatal("no form after choosing a service")
	}
	test.Type(f.fields[0].entry, "AB123456")
	f.fields[1].choice.SetSelected("birth")
	f.purpose.SetSelected("social-benefit")
	return f
}

func TestLookupSuccess(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus(), schoolRecords()}, result: answer(citizen)}
	c, _ := lookupConsole(t, s)
	test.AssertRendersToMarkup(t, "lookup/catalog.xml", c.env.win.Canvas())

	f := fillCivilStatus(t, c)
	test.AssertRendersToMarkup(t, "lookup/form.xml", c.env.win.Canvas())
	test.Tap(f.cont)
	test.AssertRendersToMarkup(t, "lookup/confirm.xml", c.env.win.Canvas())
	wantText(t, c.lookup.panel,
		"You are about to ask Civil registry for a record: MA/GOV/ETATCIVIL/civil-status — A citizen's civil status.",
		"Cin", "AB123456", "Record", "birth",
		"For this purpose: social-benefit.",
		"recorded with your account (amina)")
	if len(s.lookups) != 0 {
		t.Fatal("the lookup was sent before the clerk confirmed it")
	}

	test.Tap(findButton(t, c.lookup.panel, "Send"))
	if len(s.lookups) != 1 {
		t.Fatalf("%d lookups sent, want 1", len(s.lookups))
	}
	got := s.lookups[0]
	if got.Service != "MA/GOV/ETATCIVIL/civil-status" || got.Path != "/citizens/{cin}" || got.Purpose != "social-benefit" ||
		got.Params["cin"] != "AB123456" || got.Params["record"] != "birth" || len(got.Params) != 2 {
		t.Errorf("request %+v", got)
	}
	test.AssertRendersToMarkup(t, "lookup/result.xml", c.env.win.Canvas())
	wantText(t, c.lookup.panel,
		"Answer from Civil registry", "Received: 10:44:58, in 312 ms", "01J9Z6R2M4",
		"First name", "Amina", "Birth date", "12 Apr 1990", "Alive", "Yes", "Spouse", "—",
		"Address", "Street", "12 rue des Oliviers", "Postal code", "10000",
		"Children", "Youssef", "1 Sep 2015", "School", "Ibn Battuta",
		"Nationalities", "MA", "FR")
	noText(t, c.lookup.panel, `"first_name"`, "{")
}

// TestLookupCopyAndClose: a copy button puts a value on the clipboard;
// closing the result wipes it from memory and from the clipboard.
func TestLookupCopyAndClose(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}, result: answer(citizen)}
	c, _ := lookupConsole(t, s)
	test.Tap(fillCivilStatus(t, c).cont)
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	res := c.lookup.result
	if res == nil {
		t.Fatal("no result kept")
	}
	body := res.Body

	// The request id's copy button is the first one on the panel.
	test.Tap(findIconButton(t, c.lookup.panel, 0))
	if got := c.env.app.Clipboard().Content(); got != "01J9Z6R2M4" {
		t.Fatalf("clipboard %q after copying the request id", got)
	}
	test.Tap(findIconButton(t, c.lookup.panel, 1))
	if got := c.env.app.Clipboard().Content(); got != "AB123456" {
		t.Fatalf("clipboard %q after copying the first field", got)
	}

	test.Tap(findButton(t, c.lookup.panel, "Close and wipe"))
	if c.lookup.result != nil {
		t.Error("the result is still held after closing")
	}
	if strings.Trim(string(body), "\x00") != "" {
		t.Error("the result's body was not overwritten")
	}
	if got := c.env.app.Clipboard().Content(); got != "" {
		t.Errorf("clipboard still holds %q", got)
	}
	noText(t, c.env.win.Canvas().Content(), "Amina", "AB123456")
	if c.lookup.form == nil || c.lookup.form.fields[0].entry.Text != "" {
		t.Error("closing should offer the same service's form, empty")
	}
}

// TestLookupWipeOnSwitch: choosing another service wipes the result.
func TestLookupWipeOnSwitch(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus(), schoolRecords()}, result: answer(citizen)}
	c, _ := lookupConsole(t, s)
	test.Tap(fillCivilStatus(t, c).cont)
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	body := c.lookup.result.Body
	c.lookup.list.Select(1)
	if c.lookup.result != nil || strings.Trim(string(body), "\x00") != "" {
		t.Error("switching service kept the result")
	}
	noText(t, c.env.win.Canvas().Content(), "Amina")
	wantText(t, c.lookup.panel, "MA/GOV/MASSAR/school-records", "Held by Éducation nationale")
}

// TestLookupIdleWipe: five minutes without a touch wipe the result.
func TestLookupIdleWipe(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}, result: answer(citizen)}
	c, ts := lookupConsole(t, s)
	test.Tap(fillCivilStatus(t, c).cont)
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	body := c.lookup.result.Body
	ts.fire()
	if c.lookup.result != nil || strings.Trim(string(body), "\x00") != "" {
		t.Error("the idle timer kept the result")
	}
	test.AssertRendersToMarkup(t, "lookup/wiped_idle.xml", c.env.win.Canvas())
	wantText(t, c.lookup.panel, "wiped after 5 minutes")
}

// TestLookupLateAnswer: an answer that arrives after the clerk moved on
// is dropped, not shown.
func TestLookupLateAnswer(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus(), schoolRecords()}, result: answer(citizen)}
	c, _ := lookupConsole(t, s)
	test.Tap(fillCivilStatus(t, c).cont)
	var pending func()
	c.env.async = func(f func()) { pending = f }
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	c.env.async = func(f func()) { f() }
	c.lookup.list.Select(1)
	pending()
	if c.lookup.result != nil {
		t.Error("a late answer was kept")
	}
	noText(t, c.env.win.Canvas().Content(), "Amina")
}

func TestLookupValidation(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}}
	c, _ := lookupConsole(t, s)
	c.lookup.list.Select(0)
	f := c.lookup.form
	test.Tap(f.cont)
	wantText(t, c.lookup.panel, "This field is required.", "Choose a purpose.")
	test.Type(f.fields[0].entry, "12-34")
	f.purpose.SetSelected("school-enrolment")
	test.Tap(f.cont)
	wantText(t, c.lookup.panel, "This value does not have the expected form.")
	if c.lookup.panel.Objects[0] != f.root {
		t.Error("an invalid form went on to the summary")
	}
	f.fields[0].entry.SetText("AB12345")
	test.Tap(f.cont)
	if c.lookup.panel.Objects[0] == f.root {
		t.Fatal("a valid form did not go on to the summary")
	}
	wantText(t, c.lookup.panel, "For this purpose: school-enrolment.")
	test.Tap(findButton(t, c.lookup.panel, "Back"))
	if f.fields[0].entry.Text != "AB12345" {
		t.Error("going back lost what the clerk typed")
	}
}

// TestLookupOperations: the second operation's path parameter, which the
// service did not declare, still gets its field.
func TestLookupOperations(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}, result: answer(`{"number":"C-77"}`)}
	c, _ := lookupConsole(t, s)
	c.lookup.list.Select(0)
	f := c.lookup.form
	f.opSelect.SetSelected("A certificate by its number")
	if len(f.fields) != 1 || f.fields[0].param.Name != "number" {
		t.Fatalf("fields %+v", f.fields)
	}
	test.Type(f.fields[0].entry, "C-77")
	f.purpose.SetSelected("social-benefit")
	test.Tap(f.cont)
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	if got := s.lookups[0]; got.Path != "/certificates/{number}" || got.Params["number"] != "C-77" {
		t.Errorf("request %+v", got)
	}
}

// TestLookupFreePath: a service without an OpenAPI document is a GET of
// a path the clerk types.
func TestLookupFreePath(t *testing.T) {
	s := &stub{catalog: []console.Service{schoolRecords()}, result: &console.LookupResult{RequestID: "r2", Status: 200, At: now, Text: "enrolled in 2024"}}
	c, _ := lookupConsole(t, s)
	c.lookup.list.Select(0)
	f := c.lookup.form
	if f.purpose != nil || len(f.fields) != 1 {
		t.Fatalf("free path form: %d fields, purpose %v", len(f.fields), f.purpose != nil)
	}
	test.Type(f.fields[0].entry, "pupils/77")
	test.Tap(f.cont)
	wantText(t, c.lookup.panel, "This value does not have the expected form.")
	f.fields[0].entry.SetText("/pupils/77")
	test.Tap(f.cont)
	wantText(t, c.lookup.panel, "Éducation nationale for a record: MA/GOV/MASSAR/school-records — /pupils/77", "does not ask for a purpose")
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	if got := s.lookups[0]; got.Path != "/pupils/77" || got.Params != nil || got.Purpose != "" {
		t.Errorf("request %+v", got)
	}
	wantText(t, c.lookup.panel, "enrolled in 2024")
}

// TestLookupProviderStatus: the provider's own refusal is worded, and
// what it sent is still shown as fields.
func TestLookupProviderStatus(t *testing.T) {
	res := answer(`{"error":"no such citizen"}`)
	res.Status = 404
	s := &stub{catalog: []console.Service{civilStatus()}, result: res}
	c, _ := lookupConsole(t, s)
	test.Tap(fillCivilStatus(t, c).cont)
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	wantText(t, c.lookup.panel, "Civil registry has no record for these details.", "Check the details with the citizen.", "Error", "no such citizen")
}

// TestLookupErrors: each of the gateway's typed problems is worded for the
// clerk, with what to do and the request id, never as a bare code.
func TestLookupErrors(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}}
	c, _ := lookupConsole(t, s)
	for _, code := range problem.Codes() {
		t.Run(string(code), func(t *testing.T) {
			p := problem.New(code, "detail for "+string(code))
			p.RequestID = "req-" + string(code)
			s.lookupErr = fmt.Errorf("lookup: %w", &console.ProblemError{Status: p.Status, Problem: *p, RetryAfter: 30 * time.Second})
			c.lookup.list.UnselectAll()
			c.lookup.wipe()
			test.Tap(fillCivilStatus(t, c).cont)
			test.Tap(findButton(t, c.lookup.panel, "Send"))
			n := problemNote(&console.ProblemError{Problem: *p, RetryAfter: 30 * time.Second})
			wantText(t, c.lookup.panel, n.text, n.next, "req-"+string(code), "For your IT: "+string(code)+": detail for "+string(code))
			if strings.HasPrefix(n.text, "problem.") || n.text == problem.Lookup(code).Title {
				t.Errorf("%s is not worded for clerks: %q", code, n.text)
			}
			if c.lookup.form == nil || findButton(t, c.lookup.panel, "Back to the form") == nil {
				t.Error("no way back to the form")
			}
		})
	}
	t.Run("provider_offline markup", func(t *testing.T) {
		p := problem.New(problem.ProviderOffline, "MA/GOV/ETATCIVIL has no tunnel")
		p.RequestID = "01J9Z6R2M5"
		s.lookupErr = &console.ProblemError{Status: 503, Problem: *p, RetryAfter: 30 * time.Second}
		c.lookup.wipe()
		c.lookup.list.UnselectAll()
		test.Tap(fillCivilStatus(t, c).cont)
		test.Tap(findButton(t, c.lookup.panel, "Send"))
		test.AssertRendersToMarkup(t, "lookup/provider_offline.xml", c.env.win.Canvas())
	})
	t.Run("rate_limited says how long", func(t *testing.T) {
		p := problem.New(problem.RateLimited, "")
		s.lookupErr = &console.ProblemError{Status: 429, Problem: *p, RetryAfter: 90 * time.Second}
		c.lookup.wipe()
		c.lookup.list.UnselectAll()
		test.Tap(fillCivilStatus(t, c).cont)
		test.Tap(findButton(t, c.lookup.panel, "Send"))
		wantText(t, c.lookup.panel, "Try again in 2 min")
	})
	t.Run("a code this console does not know", func(t *testing.T) {
		s.lookupErr = &console.ProblemError{Status: 500, Problem: problem.Problem{Code: "from_the_future", Detail: "new"}}
		c.lookup.wipe()
		c.lookup.list.UnselectAll()
		test.Tap(fillCivilStatus(t, c).cont)
		test.Tap(findButton(t, c.lookup.panel, "Send"))
		wantText(t, c.lookup.panel, "failed for a reason this console does not know", "from_the_future: new")
	})
	t.Run("not a problem", func(t *testing.T) {
		s.lookupErr = &console.StatusError{Status: 404, Text: "404 page not found"}
		c.lookup.wipe()
		c.lookup.list.UnselectAll()
		test.Tap(fillCivilStatus(t, c).cont)
		test.Tap(findButton(t, c.lookup.panel, "Send"))
		wantText(t, c.lookup.panel, "answered in a way this console does not understand")
	})
	t.Run("no connection", func(t *testing.T) {
		s.lookupErr = errors.New("dial unix /run/bab/console.sock: connect: no such file or directory")
		c.lookup.wipe()
		c.lookup.list.UnselectAll()
		test.Tap(fillCivilStatus(t, c).cont)
		test.Tap(findButton(t, c.lookup.panel, "Send"))
		wantText(t, c.lookup.panel, "cannot reach your office's Bab server")
	})
}

// TestLookupNoAccess: a role without services is told so, whether the
// appliance answers an empty list or refuses.
func TestLookupNoAccess(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		c, _ := lookupConsole(t, &stub{catalog: []console.Service{}})
		test.AssertRendersToMarkup(t, "lookup/no_access.xml", c.env.win.Canvas())
		wantText(t, c.lookup.panel, "Your role (clerk) may not look up any service from this office.", "ask your IT to request access")
	})
	t.Run("refused", func(t *testing.T) {
		p := problem.New(problem.NotAllowed, "role clerk has no console rule")
		c, _ := lookupConsole(t, &stub{catalogErr: &console.ProblemError{Status: 403, Problem: *p}})
		wantText(t, c.lookup.panel, "Your role (clerk) may not look up any service from this office.")
	})
	t.Run("unreachable", func(t *testing.T) {
		c, _ := lookupConsole(t, &stub{catalogErr: errors.New("connection refused")})
		wantText(t, c.lookup.panel, "cannot reach your office's Bab server")
	})
}

// TestLookupSearch: the search ignores case and accents and looks at the
// provider and the description too.
func TestLookupSearch(t *testing.T) {
	c, _ := lookupConsole(t, &stub{catalog: []console.Service{civilStatus(), schoolRecords()}})
	for q, want := range map[string]int{"": 2, "EDUCATION": 1, "marriage": 1, "civil": 1, "nothing": 0, "ma/gov": 2} {
		c.lookup.search.SetText(q)
		if len(c.lookup.shown) != want {
			t.Errorf("search %q shows %d services, want %d", q, len(c.lookup.shown), want)
		}
	}
}

// TestCatalogFollowsPolicy: a new policy version reloads the catalog.
func TestCatalogFollowsPolicy(t *testing.T) {
	s := &stub{catalog: []console.Service{civilStatus()}}
	c, _ := lookupConsole(t, s)
	n := s.catalogs
	c.Refresh()
	if s.catalogs != n {
		t.Errorf("the catalog was asked for again under the same policy")
	}
	s.status = with(func(st *console.Status) { st.PolicyVersion++ })
	s.catalog = append(s.catalog, schoolRecords())
	c.Refresh()
	if s.catalogs != n+1 || len(c.lookup.services) != 2 {
		t.Errorf("after a new policy: %d catalog calls, %d services", s.catalogs-n, len(c.lookup.services))
	}
}

// TestLookupSinglePurpose: a service whose rules grant one purpose has it
// chosen already (choosing such a service once crashed the console).
func TestLookupSinglePurpose(t *testing.T) {
	family := schoolRecords()
	family.Purposes = []string{"marriage-file"}
	s := &stub{catalog: []console.Service{family}, result: answer(`{"holder":{"name":"Amina"}}`)}
	c, _ := lookupConsole(t, s)
	c.lookup.list.Select(0)
	f := c.lookup.form
	if f == nil || f.purpose == nil || f.purpose.Selected != "marriage-file" {
		t.Fatalf("form %+v: want the one purpose chosen", f)
	}
	test.Type(f.fields[0].entry, "/pupils/7")
	test.Tap(f.cont)
	wantText(t, c.lookup.panel, "For this purpose: marriage-file.")
	test.Tap(findButton(t, c.lookup.panel, "Send"))
	if len(s.lookups) != 1 || s.lookups[0].Purpose != "marriage-file" {
		t.Fatalf("lookups %+v", s.lookups)
	}
}
