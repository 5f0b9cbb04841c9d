from mixwise.cli import main

raise SystemExit(main())
