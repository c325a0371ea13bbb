"""The tour: ``python -m nanojax`` walks the guide with nanojax."""

from nanojax.tour import main

if __name__ == "__main__":
    raise SystemExit(main())
