package ident

// Check reports whether m is a valid member, as MarshalText would, but
// looks at the fields directly: validating a policy that lists a thousand
// identifiers then builds no strings. On failure it returns MarshalText's
// error.
func (m Member) Check() error {
	if !m.IsZero() && checkMemberParts(m.Country, m.Class, m.Code) == "" {
		return nil
	}
	_, err := m.MarshalText()
	return err
}

// Check is Member.Check for services.
func (s Service) Check() error {
	if !s.IsZero() && checkMemberParts(s.Member.Country, s.Member.Class, s.Member.Code) == "" && checkName("service name", s.Name) == "" {
		return nil
	}
	_, err := s.MarshalText()
	return err
}

// Check is Member.Check for appliances.
func (a Appliance) Check() error {
	if !a.IsZero() && checkMemberParts(a.Member.Country, a.Member.Class, a.Member.Code) == "" && checkName("appliance name", a.Name) == "" {
		return nil
	}
	_, err := a.MarshalText()
	return err
}
