from audiorep.cli import main

raise SystemExit(main())
