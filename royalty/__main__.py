from royalty.launch import main

main()
