package ui

import (
	"context"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// certWarnWithin is how early the office view warns that the appliance's
// certificate expires.
const certWarnWithin = 14 * 24 * time.Hour

// officeScreen is office IT's view of the appliance: its tunnels and
// their last errors, the boot-state check, the certificate's expiry, the
// doctor's findings with their fixes, and the paired consoles, which it
// may revoke. Only office IT sees the tab.
type officeScreen struct {
	env     *env
	who     *console.WhoAmI
	root    fyne.CanvasObject
	box     *fyne.Container
	loading bool
}

func newOfficeScreen(e *env) *officeScreen {
	o := &officeScreen{env: e, box: container.NewVBox()}
	o.root = container.NewVScroll(o.box)
	return o
}

// refresh asks for the office view again.
func (o *officeScreen) refresh() {
	if o.loading || o.env.api == nil {
		return
	}
	o.loading = true
	call(o.env, listTimeout, o.env.api.Office, func(v *console.Office, err error) {
		o.loading = false
		if err != nil {
			o.box.Objects = []fyne.CanvasObject{noteView(errorNote(err))}
			o.root.Refresh()
			return
		}
		o.show(v)
	})
}

func (o *officeScreen) show(v *console.Office) {
	clk := o.env.clock
	var objs []fyne.CanvasObject

	var tunnels []fyne.CanvasObject
	for _, t := range v.Tunnels {
		tunnels = append(tunnels, noteView(tunnelNote(t, clk)))
	}
	if len(tunnels) == 0 {
		tunnels = append(tunnels, noteView(note{level: levelFail, text: lang.L("office.tunnels.none")}))
	}
	objs = append(objs, section(lang.L("office.tunnels"), tunnels...))

	var att note
	switch {
	case v.Quarantine != "":
		att = note{level: levelFail, text: lang.L("office.attestation.quarantine"), next: lang.L("office.attestation.quarantine.next"), tech: v.Quarantine}
	case v.Attested:
		att = note{level: levelOK, text: lang.L("office.attestation.ok", map[string]any{"Time": clk.when(v.AttestedAt)})}
	default:
		att = note{level: levelWarn, text: lang.L("office.attestation.pending"), next: lang.L("office.attestation.pending.next")}
	}
	objs = append(objs, section(lang.L("office.attestation"), noteView(att)))

	var cert note
	expiry := map[string]any{"Date": clk.full(v.CertExpiry)}
	switch {
	case v.CertExpiry.IsZero():
		cert = note{level: levelWarn, text: lang.L("office.cert.unknown")}
	case !v.CertExpiry.After(clk.now()):
		cert = note{level: levelFail, text: lang.L("office.cert.expired", expiry), next: lang.L("office.cert.renew")}
	case v.CertExpiry.Sub(clk.now()) < certWarnWithin:
		cert = note{level: levelWarn, text: lang.L("office.cert.soon", expiry), next: lang.L("office.cert.renew")}
	default:
		cert = note{level: levelOK, text: lang.L("office.cert.valid", expiry)}
	}
	objs = append(objs, section(lang.L("office.cert"), noteView(cert)))

	var findings []fyne.CanvasObject
	for _, f := range v.Findings {
		findings = append(findings, noteView(findingNote(f, clk)))
	}
	if len(findings) == 0 {
		findings = append(findings, widget.NewLabel(lang.L("office.findings.none")))
	}
	objs = append(objs, section(lang.L("office.findings"), findings...))

	objs = append(objs, section(lang.L("office.consoles"), o.consoles(v.Consoles)))
	o.box.Objects = objs
	o.root.Refresh()
}

// tunnelNote is one tunnel's state.
func tunnelNote(t console.Tunnel, clk clock) note {
	data := map[string]any{"Addr": t.Addr, "Time": clk.when(t.Since), "ErrorTime": clk.when(t.LastErrorAt)}
	var n note
	switch {
	case t.Connected && t.Transport == "tcp":
		n = note{level: levelOK, text: lang.L("office.tunnel.up_tcp", data), next: lang.L("office.tunnel.tcp_next"), tech: t.TransportReason}
		return n
	case t.Connected:
		n = note{level: levelOK, text: lang.L("office.tunnel.up", data)}
	case t.Since.IsZero():
		n = note{level: levelFail, text: lang.L("office.tunnel.down", data)}
	default:
		n = note{level: levelFail, text: lang.L("office.tunnel.down_since", data)}
	}
	if t.LastError != "" {
		n.next = lang.L("office.tunnel.last_error", data)
		n.tech = t.LastError
	}
	return n
}

// findingNote is one of the appliance's checks of itself, with its fix,
// in the clerk's language when the console knows its code (the
// appliance's English words otherwise).
func findingNote(f console.Finding, clk clock) note {
	n := note{level: levelOK, text: f.Check + ": " + f.Result}
	switch f.Verdict {
	case "warn":
		n.level = levelWarn
	case "fail":
		n.level = levelFail
	}
	fix := f.Fix
	if slices.Contains(console.FindingCodes, f.Code) {
		data := map[string]any{}
		for k, v := range f.Args {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				v = clk.when(t)
			}
			data[k] = v
		}
		n.text = lang.L("finding."+f.Code, data)
		if n.level != levelOK {
			fix = lang.L("finding." + f.Code + ".fix")
		}
	}
	if fix != "" && n.level != levelOK {
		n.next = lang.L("office.fix", map[string]any{"Fix": fix})
	}
	return n
}

// consoles lists the paired consoles with a button to revoke each.
func (o *officeScreen) consoles(list []console.Paired) fyne.CanvasObject {
	if len(list) == 0 {
		return widget.NewLabel(lang.L("office.consoles.none"))
	}
	grid := container.New(layout.NewGridLayoutWithColumns(5),
		keyLabel(lang.L("office.consoles.name")), keyLabel(lang.L("office.consoles.role")),
		keyLabel(lang.L("office.consoles.paired")), keyLabel(lang.L("office.consoles.serial")), layout.NewSpacer())
	for _, p := range list {
		grid.Add(widget.NewLabel(p.Name))
		grid.Add(widget.NewLabel(roleName(p.Role)))
		grid.Add(widget.NewLabel(o.env.clock.when(p.PairedAt)))
		// The serial's first 16 digits: enough to tell two apart, and
		// they fit.
		grid.Add(widget.NewLabel(p.Serial[:min(len(p.Serial), 16)]))
		if p.Revoked {
			grid.Add(widget.NewLabel(lang.L("office.consoles.revoked")))
			continue
		}
		name := p.Name
		btn := widget.NewButtonWithIcon(lang.L("office.consoles.revoke"), theme.DeleteIcon(), func() { o.askRevoke(name) })
		btn.Importance = widget.DangerImportance
		grid.Add(container.NewHBox(btn))
	}
	return grid
}

// askRevoke confirms, then revokes a console.
func (o *officeScreen) askRevoke(name string) {
	msg := lang.L("office.revoke.confirm", map[string]any{"Name": name})
	dialog.ShowConfirm(lang.L("office.revoke.title"), msg, func(ok bool) {
		if ok {
			o.revoke(name)
		}
	}, o.env.win)
}

func (o *officeScreen) revoke(name string) {
	call(o.env, listTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, o.env.api.Revoke(ctx, name)
	}, func(_ struct{}, err error) {
		if err != nil {
			n := errorNote(err)
			dialog.ShowInformation(lang.L("office.revoke.failed"), n.text+" "+n.next, o.env.win)
		}
		o.refresh()
	})
}

// section is a titled group.
func section(title string, objs ...fyne.CanvasObject) fyne.CanvasObject {
	return widget.NewCard("", title, container.NewVBox(objs...))
}
