; Inno Setup script for Overdub (build.ps1 passes /DVersion=...).
[Setup]
AppName=Overdub
AppVersion={#Version}
DefaultDirName={autopf}\Overdub
DefaultGroupName=Overdub
OutputDir=..\..\target
OutputBaseFilename=overdub-{#Version}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\..\target\release\overdub.exe"; DestDir: "{app}"; Flags: ignoreversion
Source: "..\..\README.md"; DestDir: "{app}"; Flags: isreadme

[Icons]
Name: "{group}\Overdub"; Filename: "{app}\overdub.exe"
Name: "{autodesktop}\Overdub"; Filename: "{app}\overdub.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked
