from ganshot.cli import main

raise SystemExit(main())
