from __future__ import annotations

from posed.cli.main import main

raise SystemExit(main())
