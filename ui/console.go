package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// RefreshEvery is how often the console asks the appliance for its state.
const RefreshEvery = 10 * time.Second

// Console is the console's window: a banner with the office's state over
// the tabs Home, Lookup, Activity and, for office IT, Office.
type Console struct {
	env       *env
	banner    *banner
	tabs      *container.AppTabs
	home      *homeScreen
	lookup    *lookupScreen
	activity  *activityScreen
	office    *officeScreen
	officeTab *container.TabItem
	who       *console.WhoAmI
	policy    uint64 // the policy version the catalog was loaded under
	asking    bool
	stop      context.CancelFunc
}

// windowSize is the window's size at start: it fits a 1024×768 screen
// with room for a desktop's panel.
var windowSize = fyne.NewSize(1000, 700)

// New makes the console's window and gives the app its icon; Connect
// or ShowPairing fills the window.
func New(a fyne.App) *Console {
	a.SetIcon(Icon)
	return newConsole(defaultEnv(a))
}

func newConsole(e *env) *Console {
	e.win = e.app.NewWindow(lang.L("window.title.plain"))
	e.win.Resize(windowSize)
	c := &Console{env: e, banner: newBanner()}
	e.win.SetContent(widget.NewLabel(lang.L("window.starting")))
	e.win.SetOnClosed(func() {
		if c.lookup != nil {
			c.lookup.wipe()
		}
		if c.stop != nil {
			c.stop()
		}
	})
	return c
}

// Window is the console's window.
func (c *Console) Window() fyne.Window { return c.env.win }

// Connect shows the console for api and refreshes it every RefreshEvery
// until the window closes.
func (c *Console) Connect(api Appliance) {
	c.connect(api)
	if !c.env.tick {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	go func() {
		t := time.NewTicker(RefreshEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fyne.Do(c.Refresh)
			}
		}
	}()
}

// connect builds the screens for api and asks for the state once.
func (c *Console) connect(api Appliance) {
	c.env.api = api
	c.home = newHomeScreen(c.env)
	c.lookup = newLookupScreen(c.env)
	c.activity = newActivityScreen(c.env)
	c.office = newOfficeScreen(c.env)
	c.officeTab = container.NewTabItemWithIcon(lang.L("tab.office"), theme.ComputerIcon(), c.office.root)
	c.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(lang.L("tab.home"), theme.HomeIcon(), c.home.root),
		container.NewTabItemWithIcon(lang.L("tab.lookup"), theme.SearchIcon(), c.lookup.root),
		container.NewTabItemWithIcon(lang.L("tab.activity"), theme.ListIcon(), c.activity.root),
	)
	c.tabs.OnSelected = c.selected
	c.banner.show(describeStatus(nil, nil, c.env.clock)[0])
	c.env.win.SetContent(container.NewBorder(c.banner, nil, nil, nil, c.tabs))
	c.Refresh()
}

// selected brings the chosen tab up to date.
func (c *Console) selected(t *container.TabItem) {
	switch t.Content {
	case c.lookup.root:
		c.lookup.opened()
	case c.activity.root:
		c.activity.refresh()
	case c.office.root:
		c.office.refresh()
	}
}

// Refresh asks the appliance for its state and who the clerk is, and
// brings the visible tab up to date. A refresh still waiting for its
// answer is not doubled.
func (c *Console) Refresh() {
	if c.env.api == nil || c.asking {
		return
	}
	c.asking = true
	type answer struct {
		st         *console.Status
		who        *console.WhoAmI
		stErr, err error
	}
	call(c.env, statusTimeout, func(ctx context.Context) (answer, error) {
		var a answer
		a.st, a.stErr = c.env.api.Status(ctx)
		a.who, a.err = c.env.api.WhoAmI(ctx)
		return a, nil
	}, func(a answer, _ error) {
		c.asking = false
		c.show(a.st, a.stErr, a.who, a.err)
	})
	switch c.tabs.Selected().Content {
	case c.activity.root:
		c.activity.refresh()
	case c.office.root:
		c.office.refresh()
	}
}

// show puts the state on the banner, the title and the home screen, and
// follows changes of role and policy.
func (c *Console) show(st *console.Status, stErr error, who *console.WhoAmI, whoErr error) {
	notes := describeStatus(st, stErr, c.env.clock)
	if stErr == nil && whoErr != nil {
		notes = append([]note{errorNote(whoErr)}, notes...)
	}
	c.banner.show(notes[0])
	c.env.win.SetTitle(lang.L("window.title", map[string]any{"State": notes[0].short}))
	reload := false
	if whoErr == nil {
		reload = c.setWho(who)
	}
	c.home.show(st, stErr, c.who, notes)
	if st != nil && st.PolicyVersion != c.policy {
		c.policy = st.PolicyVersion
		reload = true
	}
	if reload {
		c.lookup.reload()
	}
}

// setWho shows the Office tab to office IT only, and reports whether the
// role changed, which changes the catalog.
func (c *Console) setWho(who *console.WhoAmI) bool {
	changed := c.who == nil || c.who.Role != who.Role
	c.who = who
	c.lookup.who = who
	c.office.who = who
	isIT := who.Role == console.RoleOfficeIT
	shown := len(c.tabs.Items) == 4
	switch {
	case isIT && !shown:
		c.tabs.Append(c.officeTab)
	case !isIT && shown:
		c.tabs.Remove(c.officeTab)
	}
	return changed
}
