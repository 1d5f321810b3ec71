"""Operator tools for TDX Dynamic PAMT (tdx-dpamt project).

Modules:
  units     -- binary size parsing and human-readable formatting
  simulate  -- the savings model behind ``pamt-savings``
  sysfs     -- reader for /sys/devices/faux/tdx_host/pamt/
  qmp       -- a minimal QMP client (unix socket)
  reader    -- the ``tdx-pamt`` command

Standard library only; runs on Debian 12's /usr/bin/python3 (3.11).
"""
