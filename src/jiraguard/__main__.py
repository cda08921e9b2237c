from jiraguard.cli import main

main()
